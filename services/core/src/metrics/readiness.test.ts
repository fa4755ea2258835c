import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NatsBus } from '../bus/nats-bus.js';
import { backendName, createTestBus, createTestDatabase } from '../testing/index.js';
import { createMetrics } from './metrics.registry.js';
import { readinessBody, startOpsServer } from './ops.server.js';
import { parsePrometheusText } from './prometheus-text.js';
import { createReadiness, ReadinessRegistry } from './readiness.registry.js';

describe(`readiness (${backendName})`, () => {
  it('is ready while the database answers and the bus is connected, and says which check failed once the database is closed', async () => {
    const { db, drop } = await createTestDatabase({ migrate: false });
    const bus = await createTestBus('vigil-readiness-test');
    try {
      const readiness = createReadiness({ db, bus });
      expect(await readiness.check()).toEqual({
        ready: true,
        checks: [
          { name: 'database', ok: true },
          { name: 'bus', ok: true },
        ],
      });
      await db.close();
      const report = await readiness.check();
      expect(report.ready).toBe(false);
      expect(report.checks).toContainEqual({ name: 'bus', ok: true });
      const database = report.checks.find((c) => c.name === 'database');
      expect(database?.ok).toBe(false);
      expect(database?.error).toMatch(/^[a-z][a-z0-9_]*$/);
    } finally {
      await bus.close();
      await drop().catch(() => {});
    }
  });

  it('reports the bus not ready once a NATS connection is closed', async () => {
    if (!process.env.NATS_URL) {
      // The in-process bus has no connection to lose; this holds the NATS path, which the
      // postgres+nats run exercises. Here: the check passes on a live in-process bus.
      const bus = await createTestBus();
      expect((await createReadiness({ bus }).check()).ready).toBe(true);
      await bus.close();
      return;
    }
    const bus = (await createTestBus('vigil-readiness-nats')) as NatsBus;
    expect(bus).toBeInstanceOf(NatsBus);
    const readiness = createReadiness({ bus });
    expect((await readiness.check()).ready).toBe(true);
    await bus.close();
    expect(await readiness.check()).toEqual({
      ready: false,
      checks: [{ name: 'bus', ok: false, error: 'closed' }],
    });
  });

  it('fails a check that does not answer within the timeout, and gates stay closed until ready', async () => {
    const readiness = new ReadinessRegistry(50);
    readiness.add('slow', () => new Promise(() => {}));
    const models = readiness.gate('models');
    let report = await readiness.check();
    expect(report.checks).toEqual([
      { name: 'slow', ok: false, error: 'timeout' },
      { name: 'models', ok: false, error: 'not_loaded' },
    ]);
    readiness.remove('slow');
    models.ready();
    report = await readiness.check();
    expect(report).toEqual({ ready: true, checks: [{ name: 'models', ok: true }] });
    models.fail('model_missing');
    expect((await readiness.check()).checks).toEqual([{ name: 'models', ok: false, error: 'model_missing' }]);
  });

  it('never reports an error message, only a code', async () => {
    const readiness = new ReadinessRegistry(1000);
    readiness.add('database', () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
    });
    const report = await readiness.check();
    expect(JSON.stringify(report)).not.toContain('hunter2');
    expect(report.checks[0]).toEqual({ name: 'database', ok: false, error: 'unavailable' });
  });

  it('reports a failed advisory check without becoming unready, and names only the blocking failures', async () => {
    const readiness = new ReadinessRegistry(1000);
    readiness.add(
      'detector',
      () => {
        throw Object.assign(new Error('cameras miss the detector'), { code: 'not_analysed' });
      },
      { advisory: true },
    );
    const advisoryOnly = await readiness.check();
    expect(advisoryOnly.ready).toBe(true);
    expect(readinessBody(advisoryOnly)).toEqual({
      status: 'ready',
      checks: { detector: { ok: false, error: 'not_analysed', advisory: true } },
    });
    readiness.gate('models');
    const body = readinessBody(await readiness.check());
    expect(body.status).toBe('not_ready');
    expect(body).toMatchObject({ error: { message: 'not ready: models: not_loaded' } });
  });
});

describe('ops server', () => {
  it('serves /health, /ready and token-protected /metrics', async () => {
    const metrics = createMetrics({ role: 'embedder', processMetrics: false });
    const readiness = new ReadinessRegistry(1000);
    const models = readiness.gate('models');
    const token = `scrape-${randomUUID()}`;
    const server = await startOpsServer({ port: 0, metrics, readiness, metricsToken: token });
    try {
      const deployment = randomUUID();
      metrics.embeddings.inc({ deployment, camera: randomUUID() }, 4);

      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });

      let ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; error: { code: string; message: string } };
      expect(body.status).toBe('not_ready');
      expect(body.error.code).toBe('not_ready');
      expect(body.error.message).toContain('models');
      models.ready();
      ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { models: { ok: true } } });

      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect(
        (await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status,
      ).toBe(401);
      const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toContain('text/plain');
      const { samples } = parsePrometheusText(await scraped.text());
      expect(samples.find((s) => s.name === 'vigil_embeddings_total')).toMatchObject({
        labels: { deployment, role: 'embedder' },
        value: 4,
      });
      expect((await fetch(`${server.url}/anything`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('without a scrape token serves /metrics to loopback scrapers only', async () => {
    const metrics = createMetrics({ role: 'matcher', processMetrics: false });
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      readiness: new ReadinessRegistry(),
    });
    try {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      expect(parsePrometheusText(await response.text()).samples.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});
