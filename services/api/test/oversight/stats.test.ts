import { AuditRepository, type DataCipher } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../test-app.js';
import {
  createDeployment,
  createWatchlist,
  recordAlert,
  recordCounters,
  type SeededDeployment,
  type SeededSubject,
  testCipher,
} from './fixtures.js';

const at = (iso: string) => new Date(iso);

describe(`oversight statistics (${backendName})`, () => {
  let t: TestApp;
  let cipher: DataCipher;
  let running: SeededDeployment;
  let stopped: SeededDeployment;
  let planned: SeededDeployment;
  let subjects: SeededSubject[];

  beforeAll(async () => {
    t = await createTestApp();
    const { db } = t.deps;
    cipher = testCipher();
    const list = await createWatchlist(db, cipher, [
      { label: 'Alice Example', category: 'wanted' },
      { label: 'Bob Example', category: 'wanted' },
      { label: 'Carol Example', category: 'missing' },
    ]);
    subjects = list.subjects;
    running = await createDeployment(db, {
      watchlistId: list.id,
      cameras: 2,
      threshold: 0.64,
      startedAt: at('2026-01-10T08:00:00Z'),
    });
    // Added after the start: not on the frozen list, so not in the running deployment's size.
    await db.query(
      `INSERT INTO subjects (watchlist_id, label, category, priority) VALUES ($1, 'Dan Later', 'suspect', 'amber')`,
      [list.id],
    );
    stopped = await createDeployment(db, {
      watchlistId: list.id,
      cameras: 1,
      startedAt: at('2026-01-12T10:00:00Z'),
      stoppedAt: at('2026-01-12T12:30:00Z'),
    });
    planned = await createDeployment(db, { watchlistId: list.id, cameras: 0 });

    const [cam1, cam2] = running.cameraIds as [string, string];
    await recordCounters(db, [
      { deploymentId: running.id, cameraId: cam1, at: at('2026-01-10T08:10:00Z'), frames: 500, faces: 100 },
      { deploymentId: running.id, cameraId: cam2, at: at('2026-01-10T08:20:00Z'), frames: 300, faces: 50 },
      { deploymentId: running.id, cameraId: cam1, at: at('2026-01-10T09:05:00Z'), frames: 200, faces: 30 },
      {
        deploymentId: stopped.id,
        cameraId: stopped.cameraIds[0]!,
        at: at('2026-01-12T11:00:00Z'),
        frames: 90,
        faces: 40,
      },
    ]);
    const alert = (
      capturedAt: string,
      subject: number,
      adjudications: [string, string][] = [],
      d = running,
      camera = cam1,
    ) =>
      recordAlert(db, cipher, {
        deploymentId: d.id,
        cameraId: camera,
        subject: subjects[subject]!,
        capturedAt: at(capturedAt),
        adjudications: adjudications.map(([outcome, when]) => ({ outcome, at: at(when) })),
      });
    await alert('2026-01-10T08:15:00Z', 0, [['confirmed', '2026-01-10T08:16:00Z']]);
    // Corrected by a later adjudication: the latest one counts.
    await alert('2026-01-10T08:30:00Z', 1, [
      ['confirmed', '2026-01-10T08:31:00Z'],
      ['false_alert', '2026-01-10T08:40:00Z'],
    ]);
    await alert('2026-01-10T08:45:00Z', 2, [['engaged', '2026-01-10T08:46:00Z']], running, cam2);
    await alert('2026-01-10T09:10:00Z', 0, [['arrested', '2026-01-10T09:20:00Z']]);
    await alert('2026-01-10T09:20:00Z', 1);
    await alert('2026-01-10T09:40:00Z', 2, [['not_stopped', '2026-01-10T09:41:00Z']]);
    await alert(
      '2026-01-12T11:15:00Z',
      0,
      [['false_alert', '2026-01-12T11:16:00Z']],
      stopped,
      stopped.cameraIds[0],
    );
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = (url: string, role: keyof TestApp['tokens'] = 'oversight') =>
    t.app.inject({ method: 'GET', url, headers: bearer(t.tokens[role]) });

  it("a deployment's statistics match the counters, alerts and latest adjudications recorded", async () => {
    const response = await get(`/api/v1/deployments/${running.id}/stats`);
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats).toMatchObject({
      deploymentId: running.id,
      status: 'running',
      threshold: 0.64,
      cameras: 2,
      startedAt: '2026-01-10T08:00:00.000Z',
      stoppedAt: null,
      watchlist: {
        size: 3,
        byCategory: { wanted: 2, missing: 1, suspect: 0, vulnerable: 0, other: 0 },
        source: 'snapshot',
      },
      framesProcessed: 1000,
      facesProcessed: 180,
      alerts: 6,
      outcomes: { confirmed: 1, false_alert: 1, engaged: 1, arrested: 1, not_stopped: 1, unresolved: 1 },
      trueAlerts: 3,
      falseAlerts: 1,
      from: null,
      to: null,
    });
    expect(stats.falseAlertRate.perFacesProcessed).toBeCloseTo(1 / 180, 12);
    expect(stats.falseAlertRate.perAlerts).toBeCloseTo(1 / 6, 12);
    expect(stats.series).toEqual([
      {
        hour: '2026-01-10T08:00:00.000Z',
        framesProcessed: 800,
        facesProcessed: 150,
        alerts: 3,
        trueAlerts: 2,
        falseAlerts: 1,
      },
      {
        hour: '2026-01-10T09:00:00.000Z',
        framesProcessed: 200,
        facesProcessed: 30,
        alerts: 3,
        trueAlerts: 1,
        falseAlerts: 0,
      },
    ]);
    expect(stats.durationSeconds).toBeGreaterThan(0);
  });

  it('statistics carry no subject label, image or embedding', async () => {
    for (const url of [
      `/api/v1/deployments/${running.id}/stats`,
      '/api/v1/oversight/stats',
      '/api/v1/oversight/stats.csv',
    ]) {
      const body = (await get(url)).body;
      for (const subject of subjects) {
        expect(body).not.toContain(subject.label);
        expect(body).not.toContain(subject.id);
      }
      expect(body).not.toMatch(/embedding|probe|base64|Dan Later/i);
    }
  });

  it('a stopped deployment has its exact duration; a planned one counts its list as it is now', async () => {
    const stoppedStats = (await get(`/api/v1/deployments/${stopped.id}/stats`)).json();
    expect(stoppedStats).toMatchObject({
      status: 'stopped',
      durationSeconds: 9000,
      facesProcessed: 40,
      alerts: 1,
      falseAlerts: 1,
      falseAlertRate: { perFacesProcessed: 1 / 40, perAlerts: 1 },
    });
    const plannedStats = (await get(`/api/v1/deployments/${planned.id}/stats`)).json();
    expect(plannedStats).toMatchObject({
      status: 'planned',
      durationSeconds: null,
      cameras: 0,
      facesProcessed: 0,
      alerts: 0,
      falseAlertRate: { perFacesProcessed: null, perAlerts: null },
      watchlist: { size: 4, byCategory: { wanted: 2, missing: 1, suspect: 1 }, source: 'current' },
    });
  });

  it('oversight statistics add up the deployments that ran, and the window filters by hour', async () => {
    const all = (await get('/api/v1/oversight/stats')).json();
    expect(all.deployments.map((d: { deploymentId: string }) => d.deploymentId).sort()).toEqual(
      [running.id, stopped.id].sort(),
    );
    expect(all.totals).toMatchObject({
      deployments: 2,
      cameras: 3,
      framesProcessed: 1090,
      facesProcessed: 220,
      alerts: 7,
      trueAlerts: 3,
      falseAlerts: 2,
      outcomes: { confirmed: 1, false_alert: 2, engaged: 1, arrested: 1, not_stopped: 1, unresolved: 1 },
    });
    expect(all.totals.falseAlertRate.perAlerts).toBeCloseTo(2 / 7, 12);

    const nineToTen = (
      await get('/api/v1/oversight/stats?from=2026-01-10T09:00:00Z&to=2026-01-10T10:00:00Z')
    ).json();
    expect(nineToTen.deployments.map((d: { deploymentId: string }) => d.deploymentId)).toEqual([running.id]);
    expect(nineToTen.totals).toMatchObject({
      framesProcessed: 200,
      facesProcessed: 30,
      alerts: 3,
      trueAlerts: 1,
      falseAlerts: 0,
    });
    expect(nineToTen.series).toHaveLength(1);

    const day12 = (await get('/api/v1/oversight/stats?from=2026-01-12&to=2026-01-13')).json();
    // The running deployment was running on the 12th too, with nothing counted that day.
    const byId = new Map(day12.deployments.map((d: { deploymentId: string }) => [d.deploymentId, d]));
    expect(byId.get(stopped.id)).toMatchObject({ facesProcessed: 40, alerts: 1 });
    expect(byId.get(running.id)).toMatchObject({ facesProcessed: 0, alerts: 0 });
    expect(day12.totals).toMatchObject({ deployments: 2, facesProcessed: 40, alerts: 1, falseAlerts: 1 });
    const before = (await get('/api/v1/oversight/stats?to=2026-01-10T08:00:00Z')).json();
    expect(before.deployments).toEqual([]);

    const bad = await get('/api/v1/oversight/stats?from=2026-01-13&to=2026-01-12');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_time_window');
    expect((await get('/api/v1/oversight/stats?from=yesterday')).json().error.code).toBe(
      'invalid_time_window',
    );
  });

  it('CSV exports hold the same figures and are on the audit trail', async () => {
    const audit = new AuditRepository(t.deps.db);
    const exportsBefore = (await audit.list({ action: 'stats.export' })).length;
    const response = await get(`/api/v1/deployments/${running.id}/stats?format=csv`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const [header, row, ...rest] = response.body.trimEnd().split('\r\n');
    expect(rest).toEqual([]);
    const record = Object.fromEntries(header!.split(',').map((name, i) => [name, row!.split(',')[i]]));
    expect(record).toMatchObject({
      deployment_id: running.id,
      threshold: '0.64',
      cameras: '2',
      watchlist_size: '3',
      faces_processed: '180',
      alerts: '6',
      false_alert: '1',
      unresolved: '1',
      true_alerts: '3',
      false_alerts: '1',
    });

    const hourly = await get(`/api/v1/deployments/${running.id}/stats.csv?rows=hour`);
    expect(hourly.body.trimEnd().split('\r\n')).toEqual([
      'hour,frames_processed,faces_processed,alerts,true_alerts,false_alerts',
      '2026-01-10T08:00:00.000Z,800,150,3,2,1',
      '2026-01-10T09:00:00.000Z,200,30,3,1,0',
    ]);

    const overall = await get('/api/v1/oversight/stats?format=csv', 'admin');
    const lines = overall.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^total,/);

    const exports = (await audit.list({ action: 'stats.export' })).slice(0, 3);
    expect((await audit.list({ action: 'stats.export' })).length).toBe(exportsBefore + 3);
    expect(exports.map((e) => e.actorName)).toEqual(['admin', 'oversight-user', 'oversight-user']);
    expect(exports[2]).toMatchObject({
      targetType: 'deployment',
      targetId: running.id,
      details: { format: 'csv', series: false },
    });
    expect(exports[1]).toMatchObject({ details: { series: true } });
    expect(exports[0]).toMatchObject({ targetType: 'oversight' });
  });

  it('only oversight and admin read statistics', async () => {
    for (const url of [
      `/api/v1/deployments/${running.id}/stats`,
      '/api/v1/oversight/stats',
      '/api/v1/oversight/stats.csv',
    ]) {
      expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
      expect((await get(url, 'operator')).statusCode).toBe(403);
      expect((await get(url, 'watchlist_manager')).statusCode).toBe(403);
      expect((await get(url, 'admin')).statusCode).toBe(200);
    }
    expect((await get('/api/v1/deployments/00000000-0000-4000-8000-000000000000/stats')).statusCode).toBe(
      404,
    );
    expect((await get('/api/v1/deployments/not-a-uuid/stats')).statusCode).toBe(400);
  });

  // Issue 26 item 6: how much of a deployment was actually watched, and why the rest was not.
  it('says how many frames read were never analysed, by reason, and the share watched', async () => {
    const { db } = t.deps;
    const list = await createWatchlist(db, cipher, [{ label: 'Eve Example', category: 'wanted' }]);
    const d = await createDeployment(db, {
      watchlistId: list.id,
      cameras: 1,
      startedAt: at('2026-02-01T08:00:00Z'),
      stoppedAt: at('2026-02-01T10:00:00Z'),
    });
    const camera = d.cameraIds[0] as string;
    await db.query(
      `INSERT INTO deployment_counters (deployment_id, camera_id, hour, frames_read, frames, faces_processed)
       VALUES ($1, $2, '2026-02-01T08:00:00Z', 1000, 600, 20), ($1, $2, '2026-02-01T09:00:00Z', 500, 500, 10)`,
      [d.id, camera],
    );
    await db.query(
      `INSERT INTO deployment_frames_not_analysed (deployment_id, camera_id, hour, reason, frames)
       VALUES ($1, $2, '2026-02-01T08:00:00Z', 'publish_failed', 300),
              ($1, $2, '2026-02-01T08:00:00Z', 'detector_unavailable', 80),
              ($1, $2, '2026-02-01T08:00:00Z', 'detector_busy', 20)`,
      [d.id, camera],
    );
    const stats = (await get(`/api/v1/deployments/${d.id}/stats`)).json();
    expect(stats).toMatchObject({
      framesRead: 1500,
      framesProcessed: 1100,
      framesNotAnalysed: {
        total: 400,
        byReason: { queue_full: 0, publish_failed: 300, detector_busy: 20, detector_unavailable: 80 },
      },
    });
    expect(stats.watchedShare).toBeCloseTo(1100 / 1500, 12);
    // The window filters by hour: the second hour was watched whole.
    const later = (await get(`/api/v1/deployments/${d.id}/stats?from=2026-02-01T09:00:00Z`)).json();
    expect(later).toMatchObject({ framesRead: 500, framesNotAnalysed: { total: 0 }, watchedShare: 1 });
    // Hours counted before frames read were have no share rather than a false one.
    expect((await get(`/api/v1/deployments/${running.id}/stats`)).json().watchedShare).toBeNull();
    const csv = (await get(`/api/v1/deployments/${d.id}/stats.csv`)).body.trimEnd().split('\r\n');
    const record = Object.fromEntries(
      (csv[0] as string).split(',').map((name, i) => [name, (csv[1] as string).split(',')[i]]),
    );
    expect(record).toMatchObject({
      frames_read: '1500',
      frames_not_analysed: '400',
      not_analysed_publish_failed: '300',
      not_analysed_detector_unavailable: '80',
    });
    const overall = (await get('/api/v1/oversight/stats')).json();
    expect(overall.totals.framesNotAnalysed.byReason.publish_failed).toBe(300);
  });

  it('the routes are in the OpenAPI document with their response schemas', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const stats = doc.paths['/api/v1/deployments/{id}/stats'].get;
    // Named schemas are components, referenced from the operation.
    const ref: string = stats.responses['200'].content['application/json'].schema.$ref;
    expect(
      doc.components.schemas[ref.replace('#/components/schemas/', '')].properties.falseAlertRate,
    ).toBeDefined();
    expect(stats.responses['200'].content['text/csv']).toBeDefined();
    expect(doc.paths['/api/v1/oversight/stats'].get.responses['200']).toBeDefined();
    expect(doc.paths['/api/v1/audit'].get.responses['200']).toBeDefined();
    expect(doc.paths['/api/v1/audit/verify'].get.responses['200']).toBeDefined();
  });
});
