import fs from 'node:fs';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Database, Queryable } from './database.js';
import { acquireDirectoryLock, type DirectoryLock } from './directory-lock.js';

const parsers = {
  [types.INT8]: (value: string) => Number.parseInt(value, 10),
  [types.NUMERIC]: (value: string) => Number.parseFloat(value),
};

/**
 * Embedded PostgreSQL (with pgvector) in WebAssembly. One connection, in-process: PGlite's socket
 * server takes one client at a time, so every query goes through this object. One process at a
 * time may open a data directory (two do not see each other's writes and can corrupt it):
 * `<dataDir>.lock` holds the opener's pid until `close`.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly #db: PGlite;
  readonly #lock: DirectoryLock | undefined;

  private constructor(db: PGlite, lock: DirectoryLock | undefined) {
    this.#db = db;
    this.#lock = lock;
  }

  /**
   * Opens (or creates) the database under `dataDir`; `undefined` keeps it in memory. Throws
   * ConflictError `database_in_use` while another live process has the directory open.
   */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    let lock: DirectoryLock | undefined;
    if (dataDir) {
      fs.mkdirSync(dataDir, { recursive: true });
      lock = acquireDirectoryLock(
        path.join(path.dirname(dataDir), `${path.basename(dataDir)}.lock`),
        `the embedded database ${dataDir}`,
      );
    }
    try {
      return new PgliteDatabase(await PGlite.create(dataDir, { extensions: { vector }, parsers }), lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; rowCount: number }> {
    const result = await this.#db.query<T>(sql, params);
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (transaction) =>
      work({
        async query<R>(sql: string, params: unknown[] = []) {
          const result = await transaction.query<R>(sql, params);
          return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
        },
      }),
    );
  }

  /** Runs several statements separated by semicolons (migrations). */
  async exec(sql: string): Promise<void> {
    await this.#db.exec(sql);
  }

  async close(): Promise<void> {
    try {
      await this.#db.close();
    } finally {
      this.#lock?.release();
    }
  }
}
