import { parseArgs } from 'node:util';
import { loadConfig, ValidationError } from '@vigil/core';
import { ROLES, type Role, startSystem } from '../system.js';
import type { Command } from './command.js';

export const serveCommand: Command = {
  summary: 'run Vigil: --role all|ingest|detector|embedder|matcher|api (default all)',
  async run(args) {
    const { values } = parseArgs({ args, options: { role: { type: 'string' } }, strict: true });
    const config = loadConfig();
    const role = (values.role ?? config.VIGIL_ROLE) as Role;
    if (!ROLES.includes(role))
      throw new ValidationError(`unknown role ${JSON.stringify(role)}; one of ${ROLES.join(', ')}`);
    if (role !== 'all' && (!config.NATS_URL || !config.DATABASE_URL)) {
      throw new ValidationError(
        `role ${role} runs beside other processes: set NATS_URL and DATABASE_URL`,
        'invalid_config',
      );
    }
    const system = await startSystem({ config, roles: [role] });
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      system.logger.info({ signal }, 'shutting down');
      await system.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    await new Promise(() => {});
    return 0;
  },
};
