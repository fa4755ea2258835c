import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger, type Database, loadConfig } from '@vigil/core';
import { createTestBus, createTestDatabase } from '@vigil/core/testing';
import type { FastifyInstance } from 'fastify';
import { type AppDependencies, buildApp } from '../src/app.js';
import type { UserRole } from '../src/auth/roles.js';
import { type ApiCall, authoriseDeployment } from './authorisation.fixture.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';
export const ROLE_PASSWORD = 'a long enough password 42';

export interface TestApp {
  app: FastifyInstance;
  deps: AppDependencies;
  dataDir: string;
  /** Bearer tokens of one user per role (created on demand). */
  tokens: Record<UserRole, string>;
  close(): Promise<void>;
}

/** The dependencies of a test app (one API process) over `db` and `bus`, its data in `dataDir`. */
export function testDependencies(options: {
  dataDir: string;
  db: Database;
  bus: Bus;
  env?: Record<string, string>;
}): AppDependencies {
  const config = loadConfig({
    VIGIL_DATA_DIR: options.dataDir,
    VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: 'silent',
    // The tests exercise the floor itself with low thresholds on synthetic data.
    VIGIL_THRESHOLD_FLOOR: '0.5',
    ...options.env,
  });
  return { config, db: options.db, bus: options.bus, logger: createLogger({ level: 'silent' }) };
}

/** A real app over a fresh database and bus, with one logged-in user per role. */
export async function createTestApp(
  overrides: Partial<AppDependencies> & { env?: Record<string, string> } = {},
): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-api-test-'));
  const testDb = await createTestDatabase();
  const bus = await createTestBus();
  const deps: AppDependencies = {
    ...testDependencies({ dataDir, db: testDb.db, bus, env: overrides.env }),
    ...overrides,
  };
  const app = await buildApp(deps);
  await app.ready();
  const tokens = {} as Record<UserRole, string>;
  tokens.admin = await login(app, 'admin', ADMIN_PASSWORD);
  for (const role of ['watchlist_manager', 'operator', 'oversight', 'authoriser', 'officer'] as const) {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${tokens.admin}` },
      payload: { username: `${role}-user`, password: ROLE_PASSWORD, role },
    });
    if (created.statusCode !== 201) throw new Error(`creating ${role}: ${created.body}`);
    tokens[role] = await login(app, `${role}-user`, ROLE_PASSWORD);
  }
  return {
    app,
    deps,
    dataDir,
    tokens,
    async close() {
      await app.close();
      await bus.close();
      await testDb.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function login(app: FastifyInstance, username: string, password: string): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
  });
  if (response.statusCode !== 200)
    throw new Error(`login ${username}: ${response.statusCode} ${response.body}`);
  return response.json().token as string;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** An API caller (authorisation.fixture's `ApiCall`) over `app.inject` as the holder of `token`. */
export function injectCaller(app: FastifyInstance, token: string): ApiCall {
  return async (method, route, body) => {
    const response = await app.inject({
      method: method as 'GET',
      url: `/api/v1${route}`,
      headers: bearer(token),
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, json: response.body ? response.json() : undefined };
  };
}

/** Authorises a deployment through the routes: the admin asks, the test app's authoriser grants. */
export function authorise(
  t: TestApp,
  deploymentId: string,
  options: { urgent?: boolean; grant?: boolean } = {},
) {
  return authoriseDeployment(
    injectCaller(t.app, t.tokens.admin),
    injectCaller(t.app, t.tokens.authoriser),
    deploymentId,
    options,
  );
}
