import { AuditRepository } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, login, ROLE_PASSWORD, type TestApp } from './test-app.js';

// Issue #23: the start-up line says "change it" and nothing let anyone change a password.
describe(`changing one's own password (${backendName})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  function change(token: string, currentPassword: string, newPassword: string) {
    return t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(token),
      payload: { currentPassword, newPassword },
    });
  }

  it('lets any role change its password with the current one; the old password and other sessions stop working, this one goes on', async () => {
    const other = await login(t.app, 'oversight-user', ROLE_PASSWORD);
    const changed = await change(t.tokens.oversight, ROLE_PASSWORD, 'a brand new passphrase 7');
    expect(changed.statusCode).toBe(204);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(t.tokens.oversight),
    });
    expect(me.statusCode).toBe(200);
    const stale = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(other) });
    expect(stale.statusCode).toBe(401);
    const oldLogin = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'oversight-user', password: ROLE_PASSWORD },
    });
    expect(oldLogin.statusCode).toBe(401);
    expect(await login(t.app, 'oversight-user', 'a brand new passphrase 7')).toBeTruthy();
    const audit = await new AuditRepository(t.deps.db).list({ action: 'user.password_change' });
    expect(audit.some((entry) => entry.actorName === 'oversight-user')).toBe(true);
    expect(JSON.stringify(audit)).not.toContain('brand new passphrase');
  });

  it('refuses a wrong current password with 400 wrong_current_password (not 401: the session stays), and audits it', async () => {
    const response = await change(t.tokens.operator, 'not my password at all', 'another good passphrase 9');
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('wrong_current_password');
    expect(await login(t.app, 'operator-user', ROLE_PASSWORD)).toBeTruthy();
    const failures = await new AuditRepository(t.deps.db).list({ action: 'user.password_change_failed' });
    expect(failures.some((entry) => entry.actorName === 'operator-user')).toBe(true);
    expect(JSON.stringify(failures)).not.toContain('not my password at all');
  });

  it('holds the new password to the policy and refuses the same password again', async () => {
    const short = await change(t.tokens.watchlist_manager, ROLE_PASSWORD, 'short');
    expect(short.statusCode).toBe(400);
    expect(short.json().error.code).toBe('weak_password');
    const same = await change(t.tokens.watchlist_manager, ROLE_PASSWORD, ROLE_PASSWORD);
    expect(same.statusCode).toBe(400);
    expect(same.json().error.code).toBe('same_password');
  });

  it('needs a token and a well-formed body', async () => {
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      payload: { currentPassword: 'x', newPassword: 'y' },
    });
    expect(anonymous.statusCode).toBe(401);
    const extra = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: bearer(t.tokens.admin),
      payload: { newPassword: 'a brand new passphrase 8', username: 'operator-user' },
    });
    expect(extra.statusCode).toBe(400);
  });

  it('slows guessing through a stolen token: after the free attempts a wrong current password waits (429)', async () => {
    const token = await login(t.app, 'admin', 'correct horse battery staple');
    let last = 0;
    for (let attempt = 0; attempt < 7; attempt++) {
      const response = await change(token, `guess number ${attempt} here`, 'an admin passphrase 12');
      last = response.statusCode;
      if (last === 429) break;
    }
    expect(last).toBe(429);
  });
});
