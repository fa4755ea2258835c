import { parseArgs } from 'node:util';
import { createRepositories, UseLogService, useLogCsv } from '@vigil/api';
import { loadConfig, ValidationError } from '@vigil/core';
import { openExistingDatabase } from './audit.command.js';
import type { Command } from './command.js';

const USAGE = 'vigil use-log DEPLOYMENT_ID [--csv] [--from YYYY-MM-DD] [--to YYYY-MM-DD]';

/** Who a CLI export is recorded as on the audit trail. */
const CLI_ACTOR = { id: null, username: 'cli:use-log' };

function date(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const parsed = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(parsed.getTime()))
    throw new ValidationError(`--${name} is not an ISO date`, 'invalid_time_window');
  return parsed;
}

/**
 * `vigil use-log`: the log of each use of a deployment (start and end, the snapshot checked,
 * threshold changes, each alert's input and who verified it), as JSON or CSV on stdout, for an
 * archive outside Vigil before VIGIL_USE_LOG_RETENTION_DAYS deletes it. The export is audited.
 */
export const useLogCommand: Command = {
  summary:
    "a deployment's log of use (start, end, snapshot, each alert's input, who verified it) as JSON or --csv",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        csv: { type: 'boolean', default: false },
        from: { type: 'string' },
        to: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const deploymentId = positionals[0];
    if (!deploymentId || positionals.length > 1) throw new ValidationError(`usage: ${USAGE}`);
    const window = { from: date(values.from, 'from'), to: date(values.to, 'to') };
    const config = loadConfig();
    const db = await openExistingDatabase(config);
    try {
      const service = new UseLogService(createRepositories(db), config.VIGIL_USE_LOG_RETENTION_DAYS);
      const log = await service.export(CLI_ACTOR, deploymentId, window, values.csv ? 'csv' : 'json');
      process.stdout.write(values.csv ? useLogCsv(log) : `${JSON.stringify(log)}\n`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
