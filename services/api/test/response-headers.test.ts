import { randomBytes } from 'node:crypto';
import { DataCipher } from '@vigil/core';
import { backendName, uniqueToken } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDeployment,
  removeAlertConsumer,
  storeAlert,
  type TestDeployment,
} from './realtime-fixtures.js';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from './test-app.js';

const FAKE_ID = '00000000-0000-4000-8000-000000000000';

// Security review, issue #22 item 11: responses carrying face crops, tokens or subject data had no
// Cache-Control, and 401s had no WWW-Authenticate challenge (RFC 6750 section 3).
describe(`API response headers: no-store and the Bearer challenge (${backendName})`, () => {
  const cipher = new DataCipher(randomBytes(32));
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;
  let deployment: TestDeployment;

  beforeAll(async () => {
    t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
    deployment = await createDeployment(t.deps.db, 'Headers');
    await storeAlert(t.deps.db, t.deps.bus, cipher, deployment);
  });
  afterAll(async () => {
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it('sends Cache-Control: no-store on responses with crops, tokens, subjects, audit rows and dispatches', async () => {
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    expect(login.headers['cache-control']).toBe('no-store');
    for (const url of [
      `/api/v1/deployments/${deployment.deploymentId}/alerts?includeProbe=true`,
      `/api/v1/subjects/${deployment.subjectId}`,
      '/api/v1/audit',
      '/api/v1/dispatches/mine',
      '/api/v1/auth/me',
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: bearer(t.tokens.admin) });
      expect(response.statusCode, `${url}: ${response.body.slice(0, 120)}`).toBe(200);
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
    const alerts = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.deploymentId}/alerts?includeProbe=true`,
      headers: bearer(t.tokens.admin),
    });
    expect(alerts.json().alerts[0].probeImage).toMatch(/^data:image\/jpeg;base64,/);
  });

  it('sends no-store on every documented /api/v1 route, errors and unknown routes included', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const gets = Object.entries(doc.paths)
      .filter(([path, methods]) => path.startsWith('/api/v1/') && 'get' in methods)
      .map(([path]) => path.replace(/\{[^}]+\}/g, FAKE_ID));
    expect(gets.length).toBeGreaterThan(20);
    for (const url of [...gets, '/api/v1/no-such-route']) {
      for (const headers of [bearer(t.tokens.admin), {}]) {
        const response = await t.app.inject({ method: 'GET', url, headers });
        expect(response.headers['cache-control'], `${url} ${response.statusCode}`).toBe('no-store');
      }
    }
  });

  it('leaves the OpenAPI document to the cache', async () => {
    const docs = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['cache-control']).toBeUndefined();
  });

  it('answers every 401 with WWW-Authenticate: Bearer, naming invalid_token when a token was sent', async () => {
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/audit' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="vigil"');

    const forged = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit',
      headers: bearer(randomBytes(32).toString('base64url')),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.headers['www-authenticate']).toBe('Bearer realm="vigil", error="invalid_token"');

    const wrongPassword = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'not the password at all' },
    });
    expect(wrongPassword.statusCode).toBe(401);
    expect(wrongPassword.headers['www-authenticate']).toMatch(/^Bearer realm="vigil"/);

    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(401);
    expect(metrics.headers['www-authenticate']).toMatch(/^Bearer /);

    const ok = await t.app.inject({ method: 'GET', url: '/api/v1/audit', headers: bearer(t.tokens.admin) });
    expect(ok.headers['www-authenticate']).toBeUndefined();
    const forbidden = await t.app.inject({
      method: 'GET',
      url: '/api/v1/audit',
      headers: bearer(t.tokens.operator),
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.headers['www-authenticate']).toBeUndefined();
  });
});
