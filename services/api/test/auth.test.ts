import os from 'node:os';
import { AuditRepository, createLogger, loadConfig } from '@vigil/core';
import { backendName, createTestBus, createTestDatabase } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { ADMIN_PASSWORD, bearer, createTestApp, login, ROLE_PASSWORD, type TestApp } from './test-app.js';

describe(`auth (${backendName})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('creates the admin user on first start with an argon2id hash of VIGIL_ADMIN_PASSWORD', async () => {
    const { rows } = await t.deps.db.query<{ password_hash: string; role: string }>(
      "SELECT password_hash, role FROM users WHERE username = 'admin'",
    );
    expect(rows[0]?.role).toBe('admin');
    expect(rows[0]?.password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0]?.password_hash).not.toContain(ADMIN_PASSWORD);
  });

  it('logs in with a token whose SHA-256 alone is stored, and audits the login', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'operator-user', password: ROLE_PASSWORD },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.user).toMatchObject({ username: 'operator-user', role: 'operator' });
    expect(body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await t.deps.db.query<{ token_hash: string }>('SELECT token_hash FROM sessions');
    expect(rows.some((row) => row.token_hash.includes(body.token))).toBe(false);
    const audit = await new AuditRepository(t.deps.db).list({ action: 'auth.login' });
    expect(audit.some((entry) => entry.actorId === body.user.id)).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(body.token);
  });

  it('refuses a wrong password and an unknown user alike, and audits both failures', async () => {
    for (const username of ['oversight-user', 'nobody-here']) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'wrong password here' },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('invalid_credentials');
    }
    const failures = await new AuditRepository(t.deps.db).list({ action: 'auth.login_failed' });
    const reasons = failures.map((entry) => entry.details.reason);
    expect(reasons).toContain('wrong_password');
    expect(reasons).toContain('unknown_user');
    expect(JSON.stringify(failures)).not.toContain('wrong password here');
  });

  it('rejects malformed login bodies with 400', async () => {
    for (const payload of [{}, { username: 'admin' }, { username: 'admin', password: { $ne: 1 } }]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBeTruthy();
    }
    const broken = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"username": "admin", "password": ',
    });
    expect(broken.statusCode).toBe(400);
    const wrongType = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/xml' },
      payload: '<login/>',
    });
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json().error.code).toBe('unsupported_media_type');
  });

  it('answers /auth/me for a valid token and 401 without one, with a tampered one, or an expired one', async () => {
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t.tokens.admin) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ username: 'admin', role: 'admin' });

    const none = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(none.statusCode).toBe(401);
    const tampered = `${t.tokens.admin.slice(0, -1)}${t.tokens.admin.endsWith('A') ? 'B' : 'A'}`;
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tampered) });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe('invalid_token');

    const token = await login(t.app, 'oversight-user', ROLE_PASSWORD);
    await t.deps.db.query(
      "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE created_at = (SELECT max(created_at) FROM sessions)",
    );
    const expired = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('token_expired');
  });

  it('revokes the token on logout', async () => {
    const token = await login(t.app, 'watchlist_manager-user', ROLE_PASSWORD);
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(token) });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
    expect(after.statusCode).toBe(401);
    expect((await new AuditRepository(t.deps.db).list({ action: 'auth.logout' })).length).toBeGreaterThan(0);
  });

  it('lets only an admin create users, with a password policy and unique usernames', async () => {
    const payload = { username: 'new.user', password: 'twelve chars ok!', role: 'operator' };
    const users = async () =>
      Number((await t.deps.db.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0]?.n);
    const before = await users();
    for (const role of ['watchlist_manager', 'operator', 'oversight', 'authoriser'] as const) {
      const refused = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: bearer(t.tokens[role]),
        payload,
      });
      expect(refused.statusCode).toBe(403);
    }
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/users', payload })).statusCode).toBe(401);

    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(t.tokens.admin),
      payload,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ username: 'new.user', role: 'operator', disabled: false });
    expect(created.body).not.toContain('password');

    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(t.tokens.admin),
      payload,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('username_taken');

    const cases: [Record<string, unknown>, string][] = [
      [{ ...payload, username: 'short.pw', password: 'elevenchars' }, 'weak_password'],
      [{ ...payload, username: 'samechar', password: 'aaaaaaaaaaaaaaaa' }, 'weak_password'],
      [{ ...payload, username: 'repeatme', password: 'repeatme-repeatme' }, 'weak_password'],
      [{ ...payload, username: "x'; DROP TABLE users; --" }, 'invalid_username'],
      [{ ...payload, username: 'role.bad', role: 'superuser' }, 'invalid_request'],
      [{ ...payload, username: 'extra.field', admin: true }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: bearer(t.tokens.admin),
        payload: body,
      });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe(code);
    }
    // Only new.user was created.
    expect(await users()).toBe(before + 1);
  });

  it('revokes the tokens of a user who is disabled, and refuses their login', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: bearer(t.tokens.admin),
      payload: { username: 'leaver', password: ROLE_PASSWORD, role: 'operator' },
    });
    const token = await login(t.app, 'leaver', ROLE_PASSWORD);
    const disabled = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${created.json().id}`,
      headers: bearer(t.tokens.admin),
      payload: { disabled: true },
    });
    expect(disabled.statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })).statusCode,
    ).toBe(401);
    const relogin = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'leaver', password: ROLE_PASSWORD },
    });
    expect(relogin.statusCode).toBe(401);
    const unknown = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/00000000-0000-4000-8000-000000000000',
      headers: bearer(t.tokens.admin),
      payload: { disabled: true },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('serves security headers and no CORS grant to a foreign origin', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'https://evil.example' },
    });
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('documents the bearer scheme and marks login public in /docs/json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/users'].post.security).toBeUndefined();
  });
});

describe(`admin bootstrap and login rate limit (${backendName})`, () => {
  it('prints a generated admin password once to the announcer, not the log, and rate-limits logins', async () => {
    const testDb = await createTestDatabase();
    const bus = await createTestBus();
    const logged: string[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: { write: (line: string) => logged.push(line) } as unknown as NodeJS.WritableStream,
    });
    const lines: string[] = [];
    const deps = {
      config: loadConfig({ VIGIL_DATA_DIR: os.tmpdir() }),
      db: testDb.db,
      bus,
      logger,
      announce: (line: string) => lines.push(line),
      authOptions: { loginRateLimitPerMinute: 3 },
    };
    const app = await buildApp(deps);
    try {
      expect(lines).toHaveLength(1);
      const password = /password (\S+)/.exec(lines[0]!)?.[1] ?? '';
      expect(password.length).toBeGreaterThanOrEqual(20);
      expect(logged.join('')).not.toContain(password);
      expect(await login(app, 'admin', password)).toBeTruthy();
      // A second start finds the admin and generates nothing.
      const again = await buildApp(deps);
      await again.close();
      expect(lines).toHaveLength(1);

      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'admin', password: 'wrong password!' },
        });
        statuses.push(response.statusCode);
        if (response.statusCode === 429) expect(response.json().error.code).toBe('rate_limited');
      }
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await app.close();
      await bus.close();
      await testDb.drop();
    }
  });
});
