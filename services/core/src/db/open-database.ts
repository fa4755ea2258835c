import path from 'node:path';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { migrate } from './migrate.js';
import { PgliteDatabase } from './pglite.repository.js';
import { PostgresDatabase } from './postgres.repository.js';

export interface OpenDatabaseOptions {
  /** postgres://... or undefined for embedded PGlite. */
  databaseUrl?: string | undefined;
  /** Data dir for PGlite; `memory` keeps the embedded database in memory (tests). */
  dataDir?: string | 'memory';
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Where PostgreSQL connection losses are reported (default: a logger of its own). */
  logger?: Logger;
}

/** Opens PostgreSQL when a URL is given, else PGlite under `<dataDir>/db`, and migrates it. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const db = options.databaseUrl
    ? new PostgresDatabase(options.databaseUrl, { logger: options.logger })
    : await PgliteDatabase.open(
        options.dataDir === 'memory' || options.dataDir === undefined
          ? undefined
          : path.join(options.dataDir, 'db'),
      );
  if (options.migrate !== false) await migrate(db);
  return db;
}
