import { parseArgs } from 'node:util';
import { createRepositories, RetentionService, retentionPolicy } from '@vigil/api';
import { type Bus, loadConfig, openBus, ValidationError } from '@vigil/core';
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
    // With NATS, what the run deletes is erased from the alert stream too, as the API's schedule does.
    let bus: Bus | undefined;
    try {
      bus = config.NATS_URL
        ? await openBus({
            natsUrl: config.NATS_URL,
            name: 'vigil-retention',
            credsFile: config.NATS_CREDS,
            user: config.NATS_USER,
            password: config.NATS_PASSWORD,
            caFile: config.NATS_CA,
            alertReplicas: config.VIGIL_ALERT_STREAM_REPLICAS,
            alertMaxAgeDays: config.VIGIL_ALERT_RETENTION_DAYS,
          })
        : undefined;
      const report = await new RetentionService(
        createRepositories(db),
        retentionPolicy(config),
        undefined,
        bus,
      ).run(
        {
          id: null,
          username: 'cli:retention',
        },
        { compactAll: values.compact },
      );
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return report.skipped ? 75 : 0;
    } finally {
      await bus?.close();
      await db.close();
    }
  },
};
