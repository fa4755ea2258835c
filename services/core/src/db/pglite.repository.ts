import fs from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Database, Queryable } from './database.js';

const parsers = {
  [types.INT8]: (value: string) => Number.parseInt(value, 10),
  [types.NUMERIC]: (value: string) => Number.parseFloat(value),
};

/**
 * Embedded PostgreSQL (with pgvector) in WebAssembly. One connection, in-process: PGlite's socket
 * server takes one client at a time, so every query goes through this object.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  readonly #db: PGlite;

  private constructor(db: PGlite) {
    this.#db = db;
  }

  /** Opens (or creates) the database under `dataDir`; `undefined` keeps it in memory. */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    if (dataDir) fs.mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir, { extensions: { vector }, parsers });
    return new PgliteDatabase(db);
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
    await this.#db.close();
  }
}
