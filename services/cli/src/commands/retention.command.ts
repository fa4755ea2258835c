import { parseArgs } from 'node:util';
import { RetentionService, retentionPolicy } from '@vigil/api';
import { loadConfig, ValidationError } from '@vigil/core';
import { openExistingDatabase } from './audit.command.js';
import type { Command } from './command.js';

/**
 * `vigil retention run`: deletes what the retention periods say is due now (the same run the API
 * process makes on its schedule) and prints what it deleted as JSON.
 */
export const retentionCommand: Command = {
  summary:
    'retention run [--compact]: delete expired snapshots, alerts and subjects now (audited); prints counts',
  async run(args) {
    const { positionals, values } = parseArgs({
      args,
      options: { compact: { type: 'boolean', default: false } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals[0] !== 'run') throw new ValidationError('usage: vigil retention run [--compact]');
    const config = loadConfig();
    const db = await openExistingDatabase(config);
    try {
      const report = await new RetentionService(db, retentionPolicy(config)).run(
        {
          id: null,
          username: 'cli:retention',
        },
        { compactAll: values.compact },
      );
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return report.skipped ? 75 : 0;
    } finally {
      await db.close();
    }
  },
};
