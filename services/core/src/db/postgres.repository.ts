import pg from 'pg';
import { createLogger, type Logger } from '../logger.js';
import { DatabaseConnectionError } from './database.errors.js';
import type { Database, Queryable } from './database.js';

// int8 (counts, sums) as JavaScript numbers: every count Vigil keeps is far below 2^53.
pg.types.setTypeParser(20, (value: string) => Number.parseInt(value, 10));
// numeric (averages) as numbers.
pg.types.setTypeParser(1700, (value: string) => Number.parseFloat(value));

/**
 * SQLSTATE classes and socket codes that mean the connection itself is gone, not the statement:
 * 08 connection exception, 57P01-57P03 administrator/crash shutdown and cannot-connect-now.
 */
const CONNECTION_LOST = /^(08|57P0[123]$)|^(ECONNRESET|EPIPE|ETIMEDOUT|ECONNREFUSED)$/;

/** What a log line may say about a driver error: its code and message, never the client or its config. */
function describeError(error: unknown): { code: string; reason: string } {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : 'unknown', reason: String(message ?? error) };
}

function isConnectionLoss(error: unknown): boolean {
  const { code, reason } = describeError(error);
  return CONNECTION_LOST.test(code) || /^Connection terminated|not queryable/.test(reason);
}

/** PostgreSQL through a node-postgres pool. */
export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #logger: Logger;

  constructor(connectionString: string, options: { max?: number; logger?: Logger } = {}) {
    this.#logger = options.logger ?? createLogger({ name: 'vigil-db' });
    this.#pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
    // An idle client's error (backend terminated, server restart) must not crash the process; the
    // pool has already dropped that client and opens a new one on demand.
    this.#pool.on('error', (error) => {
      this.#logger.warn(describeError(error), 'idle database connection lost; the pool replaces it');
    });
  }

  async query<T>(sql: string, params: unknown[] = []): Promise<{ rows: T[]; rowCount: number }> {
    const result = await this.#pool.query(sql, params);
    return { rows: result.rows as T[], rowCount: result.rowCount ?? 0 };
  }

  /**
   * A checked-out client has no pool listener: without one of its own, an 'error' it emits (the
   * backend terminated between statements, the socket reset) is unhandled and ends the process.
   * A broken connection fails the transaction with {@link DatabaseConnectionError} and is released
   * destroyed, so the pool never hands it out again.
   */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let lost: unknown;
    const onError = (error: Error) => {
      lost ??= error;
      this.#logger.warn(describeError(error), 'database connection lost inside a transaction');
    };
    client.on('error', onError);
    const tx: Queryable = {
      async query<R>(sql: string, params: unknown[] = []) {
        if (lost !== undefined) throw new DatabaseConnectionError(lost);
        const result = await client.query(sql, params);
        return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
      },
    };
    try {
      await tx.query('BEGIN');
      const value = await work(tx);
      await tx.query('COMMIT');
      return value;
    } catch (error) {
      if (lost === undefined && isConnectionLoss(error)) lost = error;
      if (lost === undefined) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // A connection that cannot roll back is in no state to be reused.
          lost = rollbackError;
        }
      }
      if (lost === undefined) throw error;
      throw error instanceof DatabaseConnectionError ? error : new DatabaseConnectionError(lost);
    } finally {
      // Destroyed when broken; pg-pool puts its own idle listener back before either release.
      client.release(lost === undefined ? undefined : toError(lost));
      client.off('error', onError);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
