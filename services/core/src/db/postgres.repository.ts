import pg from 'pg';
import type { Database, Queryable } from './database.js';

// int8 (counts, sums) as JavaScript numbers: every count Vigil keeps is far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number.parseInt(value, 10));
// numeric (averages) as numbers.
pg.types.setTypeParser(1700, (value: string) => Number.parseFloat(value));

/** PostgreSQL through a node-postgres pool. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;

  constructor(connectionString: string, options: { max?: number } = {}) {
    this.#pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
    // An idle client's error (server restart) must not crash the process; the pool replaces it.
    this.#pool.on('error', () => {});
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; rowCount: number }> {
    const result = await this.#pool.query(sql, params);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  }

  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    const tx: Queryable = {
      async query<R>(sql: string, params: unknown[] = []) {
        const result = await client.query(sql, params);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      },
    };
    try {
      await client.query('BEGIN');
      const value = await work(tx);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
