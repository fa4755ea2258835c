import { AuditRepository, createLogger, templateKeys } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import {
  DeploymentCounters,
  encodeProbeJpeg,
  MatchedAlertRepository,
  MatcherService,
  type MatchOutcome,
  SnapshotRepository,
} from '@vigil/matcher';
import { create, EmbeddingSchema } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorise, bearer, createTestApp, type TestApp } from '../test-app.js';
import { createWatchlist, testCipher } from './fixtures.js';

const MODEL = 'test-model';
const DIMENSION = 8;
const axis = (k: number, weight = 1) => Array.from({ length: DIMENSION }, (_, i) => (i === k ? weight : 0));
const add = (a: number[], b: number[]) => a.map((x, i) => x + (b[i] as number));
const HOUR = 3_600_000;

/**
 * A run streamed through the matcher's own service (real snapshot search on the database, real
 * alert store, real batched counters), with the deployment created, started and stopped and the
 * alerts adjudicated through the API: the statistics must equal what happened.
 */
describe(`statistics after a streamed run (${backendName})`, () => {
  let t: TestApp;
  let deploymentId: string;
  let cameraIds: string[];
  const tally: Record<MatchOutcome['kind'], number> = { no_match: 0, alert: 0, suppressed: 0, dropped: 0 };
  const alertHours = new Map<string, number>();
  const alertIds: string[] = [];

  beforeAll(async () => {
    const cipher = testCipher();
    t = await createTestApp({ modelId: MODEL, cipher });
    const { db } = t.deps;
    const as = (role: keyof TestApp['tokens']) => bearer(t.tokens[role]);
    const list = await createWatchlist(
      db,
      cipher,
      [
        { label: 'Subject Zero', category: 'wanted', embedding: axis(0) },
        { label: 'Subject One', category: 'wanted', embedding: axis(1) },
        { label: 'Subject Two', category: 'vulnerable', embedding: axis(2) },
      ],
      MODEL,
    );
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: as('admin'),
      payload: {
        name: 'Streamed run',
        location: 'Station forecourt',
        threshold: 0.6,
        watchlistIds: [list.id],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    deploymentId = created.json().id;
    cameraIds = [];
    for (const name of ['north', 'south']) {
      const camera = await t.app.inject({
        method: 'POST',
        url: `/api/v1/deployments/${deploymentId}/cameras`,
        headers: as('admin'),
        payload: { name, url: 'rtsp://127.0.0.1:1/none' },
      });
      expect(camera.statusCode, camera.body).toBe(201);
      cameraIds.push(camera.json().id);
    }
    const operator = (
      await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: as('operator') })
    ).json();
    const assigned = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deploymentId}/operators`,
      headers: as('admin'),
      payload: { userIds: [operator.user?.id ?? operator.id] },
    });
    expect(assigned.statusCode, assigned.body).toBeLessThan(300);
    await authorise(t, deploymentId);
    const started = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deploymentId}/start`,
      headers: as('admin'),
    });
    expect(started.statusCode, started.body).toBe(200);

    const logger = createLogger({ level: 'silent' });
    const counters = new DeploymentCounters(db, logger, 60_000);
    const matcher = new MatcherService(
      {
        // The app froze the snapshot rotated with its template keys, derived from this data key.
        snapshots: new SnapshotRepository(db, { templates: templateKeys(cipher) }),
        alerts: new MatchedAlertRepository(db),
        counters,
        cipher,
        encodeProbe: encodeProbeJpeg,
        logger,
      },
      { hnswMinSize: 50_000, cooldownSeconds: 30 },
    );
    const base = Date.now() - 3 * HOUR;
    const send = async (
      i: number,
      vector: number[],
      options: { track?: string; at?: number; model?: string } = {},
    ) => {
      const capturedAtMs = options.at ?? base + i * 40_000;
      const outcome = await matcher.handle(
        create(EmbeddingSchema, {
          frame: { deploymentId, cameraId: cameraIds[i % 2], sequence: i, capturedAtMs },
          trackId: options.track ?? `track-${i}`,
          modelId: options.model ?? MODEL,
          vector,
          crop: new Uint8Array(8 * 8 * 3).fill(128),
          cropWidth: 8,
          cropHeight: 8,
        }),
      );
      tally[outcome.kind]++;
      if (outcome.kind === 'alert') {
        alertIds.push(outcome.alert.id);
        const hour = new Date(Math.floor(capturedAtMs / HOUR) * HOUR).toISOString();
        alertHours.set(hour, (alertHours.get(hour) ?? 0) + 1);
      }
      return outcome;
    };
    // 300 faces over about 3 h 20 min: every tenth is on the list (similarity 0.9), the rest score 0.
    for (let i = 0; i < 300; i++) {
      if (i % 10 === 0) await send(i, add(axis((i / 10) % 3, 0.9), axis(7, Math.sqrt(1 - 0.81))));
      else await send(i, add(axis(3 + (i % 4), 0.6), axis(7 - (i % 3), 0.8)));
    }
    // The same message delivered twice stores one alert; the same person seen again on the same
    // camera 10 s later is within the cooldown; an embedding of another model is dropped uncounted.
    expect((await send(0, add(axis(0, 0.9), axis(7, Math.sqrt(0.19))), { at: base })).kind).toBe(
      'suppressed',
    );
    expect((await send(0, axis(0), { track: 'second-track', at: base + 10_000 })).kind).toBe('suppressed');
    expect((await send(1, axis(1), { model: 'other-model' })).kind).toBe('dropped');
    await counters.close();

    const adjudicate = async (alertId: string, outcome: string) => {
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/v1/alerts/${alertId}/adjudication`,
        headers: as('operator'),
        payload: { outcome },
      });
      expect(response.statusCode, response.body).toBe(201);
    };
    await adjudicate(alertIds[0]!, 'confirmed');
    await adjudicate(alertIds[1]!, 'false_alert');
    await adjudicate(alertIds[2]!, 'false_alert');
    await adjudicate(alertIds[2]!, 'arrested');
    await adjudicate(alertIds[3]!, 'engaged');
    await adjudicate(alertIds[4]!, 'not_stopped');
    await adjudicate(alertIds[5]!, 'false_alert');
    const stopped = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deploymentId}/stop`,
      headers: as('admin'),
    });
    expect(stopped.statusCode, stopped.body).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('faces processed, alerts and outcomes equal what the stream and the operators did', async () => {
    expect(tally).toEqual({ no_match: 270, alert: 30, suppressed: 2, dropped: 1 });
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deploymentId}/stats`,
      headers: bearer(t.tokens.oversight),
    });
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats).toMatchObject({
      status: 'stopped',
      threshold: 0.6,
      model: MODEL,
      cameras: 2,
      watchlist: { size: 3, byCategory: { wanted: 2, vulnerable: 1 }, source: 'snapshot' },
      facesProcessed: tally.no_match + tally.alert + tally.suppressed,
      alerts: tally.alert,
      outcomes: { confirmed: 1, false_alert: 2, arrested: 1, engaged: 1, not_stopped: 1, unresolved: 24 },
      trueAlerts: 3,
      falseAlerts: 2,
    });
    expect(stats.falseAlertRate.perFacesProcessed).toBeCloseTo(2 / 302, 12);
    expect(stats.falseAlertRate.perAlerts).toBeCloseTo(2 / 30, 12);
    expect(stats.durationSeconds).toBeGreaterThanOrEqual(0);
    const alertSeries = Object.fromEntries(
      stats.series
        .filter((h: { alerts: number }) => h.alerts > 0)
        .map((h: { hour: string; alerts: number }) => [h.hour, h.alerts]),
    );
    expect(alertSeries).toEqual(Object.fromEntries(alertHours));
    const sum = (key: string) =>
      stats.series.reduce((total: number, h: Record<string, number>) => total + (h[key] ?? 0), 0);
    expect(sum('facesProcessed')).toBe(stats.facesProcessed);
    expect(sum('falseAlerts')).toBe(2);
  });

  it('the run is on the audit trail, and the trail verifies', async () => {
    const audit = new AuditRepository(t.deps.db);
    for (const action of ['deployment.create', 'deployment.start', 'deployment.stop'])
      expect(await audit.list({ action, targetId: deploymentId }), action).toHaveLength(1);
    expect(await audit.list({ action: 'alert.adjudicate' })).toHaveLength(7);
    expect((await audit.verify()).ok).toBe(true);
  });
});
