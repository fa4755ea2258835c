import { parseArgs } from 'node:util';
import { type Config, createLogger, loadConfig, resolveLogFormat, ValidationError } from '@vigil/core';
import { ROLES, type Role, startSystem } from '@vigil/system';
import type { Command } from './command.js';

/** The generated admin password as one JSON line, so every line of JSON output parses. */
function adminPasswordJson(password: string): string {
  return JSON.stringify({
    level: 30,
    time: Date.now(),
    name: 'vigil',
    msg: 'created user admin with a generated password, shown this once: change it',
    username: 'admin',
    generatedPassword: password,
  });
}

/** What a person who ran `npm start` in a terminal needs: where to go, how to log in, how to stop. */
function banner(config: Config, url: string | undefined, role: Role, password: string | undefined): string {
  const lines = [
    '',
    `  Vigil is running (${role === 'all' ? 'every role in this process' : `role ${role}`}).`,
  ];
  if (url) lines.push(`  Console:   ${url.replace('://0.0.0.0', '://127.0.0.1')}`);
  if (password)
    lines.push(
      `  Log in as: admin, password ${password}`,
      '             (shown this once: change it in the console under Account)',
    );
  lines.push(
    `  Database:  ${config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded, in ${config.dataDir}`}`,
    `  Bus:       ${config.NATS_URL ? 'NATS (NATS_URL)' : 'in-process'}`,
    '  Stop:      Ctrl+C',
    '',
  );
  return `${lines.join('\n')}\n`;
}

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
    const format = resolveLogFormat(config.VIGIL_LOG_FORMAT, Boolean(process.stdout.isTTY));
    // At a terminal the banner says what a person needs; info lines wait for LOG_LEVEL=info.
    const level = format === 'text' && !process.env.LOG_LEVEL ? 'warn' : config.LOG_LEVEL;
    let generatedPassword: string | undefined;
    const system = await startSystem({
      config,
      roles: [role],
      logger: createLogger({ level, format }),
      announce: (_line, password) => {
        generatedPassword = password;
        if (format === 'json') process.stdout.write(`${adminPasswordJson(password)}\n`);
      },
    });
    if (format === 'text') process.stdout.write(banner(config, system.url, role, generatedPassword));
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
