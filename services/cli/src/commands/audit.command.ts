import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditTrailService, createRepositories } from '@vigil/api';
import {
  AuditCheckpointRepository,
  type AuditRow,
  type Config,
  type Database,
  loadAuditSigner,
  loadConfig,
  openDatabase,
  ValidationError,
} from '@vigil/core';
import type { Command } from './command.js';

const USAGE =
  'vigil audit verify [--json] | vigil audit list [--action A] [--actor U] [--target T] [--limit N]';

const REASONS: Record<string, string> = {
  hash_mismatch: 'its content does not match its hash: the row was altered',
  chain_broken: 'it does not link to the row before: a row before it was deleted, moved or altered',
  sequence_gap: 'a row before it is missing',
  checkpoint_mismatch:
    'it is not the row the signed checkpoint names: rows up to it were rewritten, removed or inserted',
  truncated:
    'the trail ends before this row, which the signed checkpoint names: the newest rows were deleted',
  checkpoint_invalid:
    'the stored checkpoint was not signed with this audit key (forged, or VIGIL_AUDIT_KEY changed)',
};

/**
 * Opens the database the server uses without migrating it. The embedded database must exist: a
 * verify of a database that was never started says so rather than creating an empty one. PGlite
 * takes one process at a time: while a server holds the data directory this throws
 * `database_in_use` (stop the server, or use GET /api/v1/audit/verify).
 */
export async function openExistingDatabase(config: Config): Promise<Database> {
  if (!config.DATABASE_URL && !fs.existsSync(path.join(config.dataDir, 'db')))
    throw new ValidationError(
      `no database in ${config.dataDir} (set VIGIL_DATA_DIR or DATABASE_URL)`,
      'no_database',
    );
  return openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, migrate: false });
}

function describe(row: AuditRow | undefined): string {
  if (!row) return '(row not found)';
  const target = row.targetType || row.targetId ? ` ${row.targetType}:${row.targetId}` : '';
  return `${row.at} ${row.actorName || '-'} ${row.action}${target} ${JSON.stringify(row.details)}`;
}

/** `vigil audit verify`: checks the hash chain; exit status 1 and the first bad row when broken. */
export const auditCommand: Command = {
  summary: 'audit trail: verify (hash chain; exit 1 naming the first altered row) | list',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        json: { type: 'boolean', default: false },
        action: { type: 'string' },
        actor: { type: 'string' },
        target: { type: 'string' },
        limit: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    const sub = positionals[0];
    if (sub !== 'verify' && sub !== 'list') throw new ValidationError(`usage: ${USAGE}`);
    const config = loadConfig();
    const db = await openExistingDatabase(config);
    try {
      const trail = new AuditTrailService(createRepositories(db), {
        signer: loadAuditSigner({ auditKey: config.VIGIL_AUDIT_KEY, dataDir: config.dataDir }),
        store: new AuditCheckpointRepository(config.dataDir),
      });
      if (sub === 'list') {
        const limit = values.limit ? Number.parseInt(values.limit, 10) : 50;
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new ValidationError('--limit must be 1 to 1000');
        const page = await trail.list({
          action: values.action,
          actor: values.actor,
          target: values.target,
          limit,
        });
        for (const row of page.entries) process.stdout.write(`${JSON.stringify(row)}\n`);
        return 0;
      }
      const result = await trail.verify();
      const row = result.firstBad?.id ? await trail.get(result.firstBad.id) : undefined;
      const held = result.checkpoint
        ? `, held to the checkpoint signed ${result.checkpoint.at} at row ${result.checkpoint.headId} (${result.checkpoint.entries} entries)`
        : ', no signed checkpoint yet';
      if (values.json) {
        process.stdout.write(`${JSON.stringify(row ? { ...result, row } : result)}\n`);
      } else if (result.ok) {
        process.stdout.write(`audit trail intact: ${result.entries} entries${held}\n`);
      } else if (result.firstBad) {
        process.stdout.write(
          `audit trail BROKEN at row ${result.firstBad.id} (${result.firstBad.reason}): ` +
            `${REASONS[result.firstBad.reason] ?? ''}\n` +
            `  row ${result.firstBad.id}: ${describe(row)}\n` +
            `  ${result.entries} entries before it verified${held}\n`,
        );
      }
      return result.ok ? 0 : 1;
    } finally {
      await db.close();
    }
  },
};
