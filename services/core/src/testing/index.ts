import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import type { Bus } from '../bus/bus.js';
import { openBus } from '../bus/open-bus.js';
import type { Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { PgliteDatabase } from '../db/pglite.repository.js';
import { PostgresDatabase } from '../db/postgres.repository.js';

export { selfSignedCertificate } from './certificate.js';

/**
 * Helpers for integration tests: the same test code runs on PostgreSQL + nats-server when
 * DATABASE_URL / NATS_URL are set, and on PGlite + the in-process bus otherwise.
 */

/** Which backends this run uses, for test names. */
export const backendName = `${process.env.DATABASE_URL ? 'postgres' : 'pglite'}+${process.env.NATS_URL ? 'nats' : 'memory-bus'}`;

export interface TestDatabase {
  db: Database;
  /** postgres://... of the fresh database (PostgreSQL only), for child processes. */
  url?: string;
  /** Closes and, on PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

/** A fresh, migrated database: a new database on the server in DATABASE_URL, or an in-memory PGlite. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await PgliteDatabase.open();
    if (options.migrate !== false) await migrate(db);
    return { db, drop: () => db.close() };
  }
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = new PostgresDatabase(url.toString());
  if (options.migrate !== false) await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The bus named by NATS_URL, or a fresh in-process bus. */
export async function createTestBus(name = 'vigil-test'): Promise<Bus> {
  return openBus({ natsUrl: process.env.NATS_URL, name });
}

/** A prefix unique to this test run, so tests sharing one nats-server never see each other's subjects. */
export function uniqueToken(): string {
  return randomBytes(6).toString('hex');
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on at the moment of the call. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
