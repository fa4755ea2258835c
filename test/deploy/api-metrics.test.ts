import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '@vigil/api';
import { createLogger, createMetrics, createReadiness, loadConfig, parsePrometheusText } from '@vigil/core';
import { backendName, createTestBus, createTestDatabase } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ADMIN_PASSWORD = 'metrics test admin password';
const SCRAPE_TOKEN = `scrape-${randomUUID()}`;

describe(`GET /metrics and /ready on the API (${backendName})`, () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-metrics-test-'));
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let bus: Awaited<ReturnType<typeof createTestBus>>;
  let app: Awaited<ReturnType<typeof buildApp>>;
  const metrics = createMetrics({ role: 'api', processMetrics: false });
  const deployment = randomUUID();
  const camera = randomUUID();
  let adminToken: string;
  let operatorToken: string;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    bus = await createTestBus('vigil-metrics-api-test');
    const config = loadConfig({
      VIGIL_DATA_DIR: dataDir,
      VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD,
      VIGIL_METRICS_TOKEN: SCRAPE_TOKEN,
      LOG_LEVEL: 'silent',
    });
    const readiness = createReadiness({ db: testDb.db, bus });
    app = await buildApp({
      config,
      db: testDb.db,
      bus,
      logger: createLogger({ level: 'silent' }),
      metrics,
      readiness,
      announce: () => {},
    });
    await app.ready();
    adminToken = await login('admin', ADMIN_PASSWORD);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: { username: 'metrics-operator', password: 'an operator password 7', role: 'operator' },
    });
    expect(created.statusCode).toBe(201);
    operatorToken = await login('metrics-operator', 'an operator password 7');
  });

  afterAll(async () => {
    await app?.close();
    await bus?.close();
    await testDb?.drop().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function login(username: string, password: string): Promise<string> {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
    });
    expect(response.statusCode).toBe(200);
    return response.json().token as string;
  }

  it('refuses /metrics without a token, with a bad token and to a non-admin user', async () => {
    for (const url of ['/metrics', '/api/v1/metrics']) {
      const anonymous = await app.inject({ method: 'GET', url });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('unauthorized');
      const wrong = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer not-the-token' },
      });
      expect(wrong.statusCode).toBe(401);
      const operator = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${operatorToken}` },
      });
      expect(operator.statusCode).toBe(403);
    }
  });

  it('serves Prometheus text to the scrape token and to an admin', async () => {
    metrics.alerts.inc({ deployment, camera }, 2);
    for (const token of [SCRAPE_TOKEN, adminToken]) {
      const response = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/plain');
      const { samples } = parsePrometheusText(response.body);
      expect(samples.find((s) => s.name === 'vigil_alerts_total')).toEqual({
        name: 'vigil_alerts_total',
        labels: { deployment, camera, role: 'api' },
        value: 2,
      });
    }
  });

  it('documents /metrics and /ready in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined();
    expect(doc.paths['/api/v1/ready'].get.security).toEqual([]);
    expect(Object.keys(doc.paths['/ready'].get.responses).sort()).toEqual(['200', '503']);
  });

  it('is ready while the database and bus answer, and 503 naming the database once it is closed', async () => {
    for (const url of ['/ready', '/api/v1/ready']) {
      const ready = await app.inject({ method: 'GET', url });
      expect(ready.statusCode).toBe(200);
      // The pipeline's ingest and detector checks are advisory: reported, never making the API unready.
      expect(ready.json()).toMatchObject({
        status: 'ready',
        checks: { database: { ok: true }, bus: { ok: true } },
      });
      for (const [name, check] of Object.entries(
        ready.json().checks as Record<string, { ok: boolean; advisory?: boolean }>,
      )) {
        if (name !== 'database' && name !== 'bus') expect(check.advisory, name).toBe(true);
      }
    }
    await testDb.db.close();
    for (const url of ['/ready', '/api/v1/ready']) {
      const notReady = await app.inject({ method: 'GET', url });
      expect(notReady.statusCode).toBe(503);
      const body = notReady.json();
      expect(body.status).toBe('not_ready');
      expect(body.checks.bus).toEqual({ ok: true });
      expect(body.checks.database.ok).toBe(false);
      expect(body.error.code).toBe('not_ready');
      expect(body.error.message).toContain('database');
    }
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  });
});
