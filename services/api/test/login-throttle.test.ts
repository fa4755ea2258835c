import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditRepository, type Database } from '@vigil/core';
import { backendName, createTestBus, createTestDatabase, type TestDatabase } from '@vigil/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { ADMIN_PASSWORD, createTestApp, ROLE_PASSWORD, type TestApp, testDependencies } from './test-app.js';

const PROXY = '127.0.0.1';
/** The throttle's clock stands still, so a slow machine cannot outwait a delay mid-test. */
const frozen = { now: () => 1_700_000_000_000 };

/** A login as a client behind the proxy at 127.0.0.1 (X-Forwarded-For), or from `remoteAddress` directly. */
function attempt(
  app: FastifyInstance,
  username: string,
  password: string,
  from: { client?: string; remoteAddress?: string } = {},
) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: from.remoteAddress ?? PROXY,
    headers: from.client ? { 'x-forwarded-for': from.client } : {},
    payload: { username, password },
  });
}

/** Issue #22 item 4: throttling that neither a proxy nor a stranger can turn into a lock-out. */
describe(`login throttling behind a trusted proxy (${backendName})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { VIGIL_TRUST_PROXY: PROXY },
      // The per-minute route limit is a separate, coarser guard; lifted so the throttle alone is seen.
      authOptions: { loginRateLimitPerMinute: 1000, ...frozen },
    });
  });
  afterAll(async () => t?.close());

  it('keeps the well-known admin open to its user while a stranger behind the same proxy guesses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push(
        (await attempt(t.app, 'admin', `guess number ${i}`, { client: '203.0.113.7' })).statusCode,
      );
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((status) => status === 429)).toBe(true);

    // Same proxy, another client: neither the proxy's address nor the account is locked.
    const rightful = await attempt(t.app, 'admin', ADMIN_PASSWORD, { client: '198.51.100.9' });
    expect(rightful.statusCode).toBe(200);
    const stranger = await attempt(t.app, 'admin', ADMIN_PASSWORD, { client: '203.0.113.7' });
    expect(stranger.statusCode).toBe(429);
    expect(stranger.json().error.code).toBe('account_locked');
    expect(Number(stranger.headers['retry-after'])).toBeGreaterThan(0);
    const audit = await new AuditRepository(t.deps.db).list({ action: 'auth.login_failed' });
    expect(
      audit.some((entry) => entry.details.reason === 'throttled' && entry.details.ip === '203.0.113.7'),
    ).toBe(true);
  });

  it('counts concurrent attempts before the password check, so a burst gets 5 guesses, not 30', async () => {
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        attempt(t.app, 'operator-user', `burst guess ${i}`, { client: '192.0.2.44' }),
      ),
    );
    const statuses = burst.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(25);
    const checked = await t.deps.db.query<{ failed_logins: number }>(
      "SELECT failed_logins FROM users WHERE username = 'operator-user'",
    );
    expect(Number(checked.rows[0]?.failed_logins)).toBe(5);
    // The operator, elsewhere, still logs in.
    expect((await attempt(t.app, 'operator-user', ROLE_PASSWORD, { client: '192.0.2.45' })).statusCode).toBe(
      200,
    );
  });

  it('slows an address that sprays many usernames, and only that address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++)
      statuses.push(
        (await attempt(t.app, `spray-${i}`, 'wrong password x', { client: '192.0.2.99' })).statusCode,
      );
    expect(statuses.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    expect(
      (await attempt(t.app, 'oversight-user', ROLE_PASSWORD, { client: '192.0.2.100' })).statusCode,
    ).toBe(200);
  });

  it('throttles unknown usernames exactly like known ones, so a delay reveals nothing', async () => {
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(
        (await attempt(t.app, 'watchlist_manager-user', `nope ${i}`, { client: '192.0.2.7' })).statusCode,
      );
      unknown.push((await attempt(t.app, 'ghost', `nope ${i}`, { client: '192.0.2.7' })).statusCode);
    }
    expect(unknown).toEqual(known);
    expect(known.at(-1)).toBe(429);
  });
});

describe(`login throttling without a trusted proxy (${backendName})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ authOptions: { loginRateLimitPerMinute: 1000, ...frozen } });
  });
  afterAll(async () => t?.close());

  it('ignores X-Forwarded-For, so a client cannot name a fresh address for each guess', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push(
        (
          await attempt(t.app, 'admin', `guess ${i}`, {
            remoteAddress: '10.20.30.40',
            client: `198.18.0.${i + 1}`,
          })
        ).statusCode,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // Another address still reaches the account.
    expect((await attempt(t.app, 'admin', ADMIN_PASSWORD, { remoteAddress: '10.20.30.41' })).statusCode).toBe(
      200,
    );
  });
});

/** One API process over a shared database: its own data directory and bus, the deployment's data key. */
async function apiProcess(
  db: Database,
  dataKey: string,
): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-api-replica-'));
  const bus = await createTestBus();
  const app = await buildApp({
    ...testDependencies({ dataDir, db, bus, env: { VIGIL_DATA_KEY: dataKey } }),
    authOptions: { loginRateLimitPerMinute: 1000, ...frozen },
  });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await bus.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Regression: counts were kept in each process's memory, so N replicas allowed N times the guesses and a restart reset them. */
describe(`login throttling shared by API replicas over one database (${backendName})`, () => {
  const dataKey = randomBytes(32).toString('base64');
  let testDb: TestDatabase;
  let replicas: { app: FastifyInstance; close(): Promise<void> }[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase();
    replicas = [await apiProcess(testDb.db, dataKey), await apiProcess(testDb.db, dataKey)];
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await testDb?.drop();
  });
  const on = (index: number) => (replicas[index] as { app: FastifyInstance }).app;

  it('makes every replica wait after failures on one, with Retry-After', async () => {
    const from = { remoteAddress: '10.9.8.7' };
    for (let i = 0; i < 5; i++)
      expect((await attempt(on(0), 'admin', `guess ${i}`, from)).statusCode).toBe(401);
    const other = await attempt(on(1), 'admin', ADMIN_PASSWORD, from);
    expect(other.statusCode).toBe(429);
    expect(other.json().error.code).toBe('account_locked');
    expect(Number(other.headers['retry-after'])).toBeGreaterThan(0);
    // The rightful user elsewhere is not held back, on either replica.
    expect((await attempt(on(1), 'admin', ADMIN_PASSWORD, { remoteAddress: '10.9.8.6' })).statusCode).toBe(
      200,
    );
  });

  it('gives a burst spread across replicas the 5 free guesses in all, not 5 each', async () => {
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        attempt(on(i % 2), 'admin', `spread guess ${i}`, { remoteAddress: '10.9.8.20' }),
      ),
    );
    const statuses = burst.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
  });

  it('keeps the wait across a restart of every replica', async () => {
    const from = { remoteAddress: '10.9.8.30' };
    for (let i = 0; i < 5; i++) await attempt(on(0), 'admin', `before restart ${i}`, from);
    for (const replica of replicas.splice(0)) await replica.close();
    replicas.push(await apiProcess(testDb.db, dataKey));
    const restarted = await attempt(on(0), 'admin', ADMIN_PASSWORD, from);
    expect(restarted.statusCode).toBe(429);
    expect(Number(restarted.headers['retry-after'])).toBeGreaterThan(0);
  });
});
