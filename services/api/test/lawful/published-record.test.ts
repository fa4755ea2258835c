import { createHash } from 'node:crypto';
import { auditHash, type DataCipher, loadAuditSigner, loadConfig } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionService } from '../../src/oversight/retention.service.js';
import { createRepositories } from '../../src/repositories.js';
import {
  createDeployment,
  createWatchlist,
  recordAlert,
  recordCounters,
  type SeededAlert,
  type SeededDeployment,
  type SeededSubject,
  testCipher,
} from '../oversight/fixtures.js';
import { authorise, bearer, createTestApp, type TestApp } from '../test-app.js';

const DAY_MS = 86_400_000;
const NAMES = ['Alice Example', 'Bob Example', 'Carol Example'];

describe(`published record, use log and evidence pack (${backendName})`, () => {
  let t: TestApp;
  let cipher: DataCipher;
  let deployment: SeededDeployment;
  let subjects: SeededSubject[];
  const alerts: SeededAlert[] = [];
  let startedAt: Date;

  const get = (url: string, token = t.tokens.oversight) =>
    t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(token) });

  beforeAll(async () => {
    t = await createTestApp();
    const { db } = t.deps;
    cipher = testCipher();
    const list = await createWatchlist(db, cipher, [
      { label: NAMES[0]!, category: 'wanted' },
      { label: NAMES[1]!, category: 'wanted' },
      { label: NAMES[2]!, category: 'missing' },
    ]);
    subjects = list.subjects;
    deployment = await createDeployment(db, { watchlistId: list.id, cameras: 1, threshold: 0.6 });
    // Authorised (the watchlist approved, the terms asked for and granted) and started through the routes.
    await authorise(t, deployment.id);
    const start = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deployment.id}/start`,
      headers: bearer(t.tokens.admin),
    });
    expect(start.statusCode, start.body).toBe(200);
    startedAt = new Date(start.json().startedAt);
    const camera = deployment.cameraIds[0]!;
    await recordCounters(db, [
      {
        deploymentId: deployment.id,
        cameraId: camera,
        at: new Date(startedAt.getTime() + 60_000),
        frames: 9000,
        faces: 2000,
      },
    ]);
    const outcomes = [['confirmed'], ['false_alert'], ['engaged'], ['confirmed', 'arrested'], []];
    for (const [i, list_] of outcomes.entries())
      alerts.push(
        await recordAlert(db, cipher, {
          deploymentId: deployment.id,
          cameraId: camera,
          subject: subjects[i % 3]!,
          capturedAt: new Date(startedAt.getTime() + (i + 2) * 60_000),
          adjudications: list_.map((outcome, k) => ({
            outcome,
            at: new Date(startedAt.getTime() + (i + 3) * 60_000 + k),
          })),
        }),
      );
    const change = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/deployments/${deployment.id}/threshold`,
      headers: bearer(t.tokens.admin),
      payload: { threshold: 0.65, reason: 'crowd larger than planned' },
    });
    expect(change.statusCode, change.body).toBe(200);
    const stop = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deployment.id}/stop`,
      headers: bearer(t.tokens.admin),
    });
    expect(stop.statusCode, stop.body).toBe(200);
    const calibration = await t.app.inject({
      method: 'POST',
      url: '/api/v1/oversight/calibrations',
      headers: bearer(t.tokens.admin),
      // As `vigil calibrate --json` prints it (extra fields and all).
      payload: {
        model: 'test-model',
        dataset: 'LFW, 2,000 photos',
        nonMatedComparisons: 300_000,
        watchlistSize: 500,
        rows: [
          { threshold: 0.6, fmr: 1e-5, tpir: 0.97, fpir: 0.004 },
          { threshold: 0.65, fmr: 0, tpir: 0.95, fpir: 0 },
          { threshold: 0.55, fmr: 1e-4, tpir: 0.98, fpir: 0.05 },
        ],
      },
    });
    expect(calibration.statusCode, calibration.body).toBe(201);
  });
  afterAll(async () => t?.close());

  it("gives a deployment's published figures, with the false alerts to expect at its threshold and list size", async () => {
    const response = await get(`/deployments/${deployment.id}/published-record`);
    expect(response.statusCode, response.body).toBe(200);
    const record = response.json();
    expect(record).toMatchObject({
      deploymentId: deployment.id,
      location: 'High Street',
      date: startedAt.toISOString().slice(0, 10),
      startedAt: startedAt.toISOString(),
      status: 'stopped',
      watchlist: {
        size: 3,
        byCategory: { wanted: 2, missing: 1, suspect: 0 },
        byPriority: { red: 3, amber: 0 },
      },
      facesSeen: 2000,
      alerts: 5,
      trueAlerts: 3,
      falseAlerts: 1,
      unresolvedAlerts: 1,
      engagements: 2,
      arrests: 1,
      threshold: 0.65,
      thresholdChanges: 1,
      model: 'test-model',
      twoPersonVerification: false,
    });
    expect(record.stoppedAt).not.toBeNull();
    // At 0.65 no false match was measured: the rule-of-three bound, 3 / 300,000 comparisons.
    const perFace = 1 - (1 - 1e-5) ** 3;
    expect(record.expectedFalseAlerts).toMatchObject({
      calibratedThreshold: 0.65,
      upperBound: true,
      dataset: 'LFW, 2,000 photos',
    });
    expect(record.expectedFalseAlerts.falseMatchRate).toBeCloseTo(1e-5, 12);
    expect(record.expectedFalseAlerts.perFace).toBeCloseTo(perFace, 12);
    expect(record.expectedFalseAlerts.forFacesSeen).toBeCloseTo(perFace * 2000, 9);
    expect(record.expectedFalseAlerts.per1000Faces).toBeCloseTo(perFace * 1000, 9);
  });

  it('publishes nothing that names or shows a person', async () => {
    const bodies = [
      (await get(`/deployments/${deployment.id}/published-record`)).body,
      (await get('/oversight/published-record')).body,
      (await get('/oversight/published-record.csv')).body,
    ];
    for (const body of bodies) {
      for (const name of NAMES) expect(body).not.toContain(name);
      for (const subject of subjects) expect(body).not.toContain(subject.id);
      expect(body).not.toContain('data:image');
    }
  });

  it('gives the period as JSON and as CSV, and puts the CSV export on the audit trail', async () => {
    const day = startedAt.toISOString().slice(0, 10);
    const period = (await get(`/oversight/published-record?from=${day}`)).json();
    expect(period.deployments.map((d: { deploymentId: string }) => d.deploymentId)).toContain(deployment.id);
    expect(period.totals).toMatchObject({
      deployments: 1,
      facesSeen: 2000,
      alerts: 5,
      arrests: 1,
      engagements: 2,
    });
    const before = (await get('/oversight/published-record?to=2020-01-01')).json();
    expect(before.deployments).toEqual([]);

    const csv = await get(`/oversight/published-record.csv?from=${day}`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('attachment');
    const [header, row] = csv.body.trim().split('\r\n') as [string, string];
    const columns = header.split(',');
    const values = Object.fromEntries(row.split(',').map((v, i) => [columns[i], v]));
    expect(values).toMatchObject({
      deployment_id: deployment.id,
      faces_seen: '2000',
      alerts: '5',
      true_alerts: '3',
      false_alerts: '1',
      engagements: '2',
      arrests: '1',
      watchlist_size: '3',
      watchlist_wanted: '2',
      threshold: '0.65',
      model: 'test-model',
    });
    expect(Number(values.expected_false_alerts_for_faces_seen)).toBeCloseTo((1 - (1 - 1e-5) ** 3) * 2000, 3);
    const audit = await t.deps.db.query(`SELECT 1 FROM audit_log WHERE action = 'published_record.export'`);
    expect(audit.rows.length).toBeGreaterThan(0);
  });

  it('logs each use: start with the snapshot checked, threshold change, each alert with its input, stop', async () => {
    const response = await get(`/deployments/${deployment.id}/use-log`);
    expect(response.statusCode, response.body).toBe(200);
    const log = response.json();
    expect(log.retentionDays).toBe(183);
    const events = log.entries.map((e: { event: string }) => e.event);
    expect(events).toEqual([
      'started',
      'alert',
      'outcome',
      'alert',
      'outcome',
      'alert',
      'outcome',
      'alert',
      'outcome',
      'outcome',
      'alert',
      'threshold_changed',
      'stopped',
    ]);
    const [started] = log.entries;
    expect(started.details).toMatchObject({
      model: 'test-model',
      threshold: 0.6,
      snapshotEntries: 3,
      snapshotSubjects: 3,
    });
    expect(started.details.snapshotSha256).toMatch(/^[0-9a-f]{64}$/);
    const change = log.entries.find((e: { event: string }) => e.event === 'threshold_changed');
    expect(change.details).toMatchObject({ from: 0.6, to: 0.65 });
    const firstAlert = log.entries.find((e: { event: string }) => e.event === 'alert');
    expect(firstAlert).toMatchObject({ alertId: String(alerts[0]!.id) });
    expect(firstAlert.details).toMatchObject({
      cameraId: deployment.cameraIds[0],
      subjectId: subjects[0]!.id,
      referenceImageId: subjects[0]!.referenceImageIds[0],
      score: 0.81,
      threshold: 0.6,
    });
    expect(firstAlert.details.probeSha256).toBe(
      createHash('sha256').update(alerts[0]!.sealedProbe).digest('hex'),
    );
    const csv = await get(`/deployments/${deployment.id}/use-log.csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toBe('id,at,event,alert_id,details');
    const exports = await t.deps.db.query(
      `SELECT 1 FROM audit_log WHERE action = 'use_log.export' AND target_id = $1`,
      [deployment.id],
    );
    expect(exports.rows.length).toBe(2);
  });

  it('bundles the evidence pack: authorisation record, list, threshold rationale, statistics, use log, audit with checkpoint', async () => {
    const response = await get(`/deployments/${deployment.id}/evidence-pack`);
    expect(response.statusCode, response.body.slice(0, 200)).toBe(200);
    expect(response.headers['content-disposition']).toContain(`evidence-pack-${deployment.id}.json`);
    const pack = response.json();
    expect(pack).toMatchObject({ kind: 'vigil.evidence-pack', version: 1, generatedBy: 'oversight-user' });
    expect(pack.deployment).toMatchObject({ id: deployment.id, location: 'High Street', status: 'stopped' });
    expect(pack.deployment).toMatchObject({ purpose: expect.any(String), legalBasis: expect.any(String) });
    expect(pack.authorisations).toEqual([
      expect.objectContaining({
        status: 'granted',
        requestedByName: 'admin',
        decidedByName: 'authoriser-user',
        rationale: expect.stringContaining('necessary and proportionate'),
        subjectsCovered: 3,
        composition: expect.objectContaining({ subjects: 3 }),
      }),
    ]);
    expect(pack.watchlist.decisions.map((d: { action: string }) => d.action)).toEqual(
      expect.arrayContaining(['deployment.start']),
    );
    expect(pack.watchlist.size).toBe(3);
    expect(pack.watchlist.composition).toEqual([
      { category: 'wanted', priority: 'red', subjects: 2 },
      { category: 'missing', priority: 'red', subjects: 1 },
    ]);
    expect(pack.thresholdRationale).toMatchObject({ threshold: 0.65, floor: 0.5, model: 'test-model' });
    expect(pack.thresholdRationale.decisions).toEqual([
      expect.objectContaining({
        action: 'deployment.threshold_change',
        details: expect.objectContaining({ reason: 'crowd larger than planned' }),
      }),
    ]);
    expect(pack.thresholdRationale.calibration.rows.map((r: { threshold: number }) => r.threshold)).toEqual([
      0.55, 0.6, 0.65,
    ]);
    expect(pack.statistics).toEqual((await get(`/deployments/${deployment.id}/published-record`)).json());
    expect(pack.useLog.entries.length).toBe(13);
    const actions = pack.audit.entries.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['deployment.threshold_change', 'deployment.stop']));
    // Each row carries its hash, checkable by the reader; the checkpoint is the chain's head at export.
    for (const entry of pack.audit.entries) expect(auditHash(entry)).toBe(entry.hash);
    const head = await t.deps.db.query<{ id: string; hash: string }>(
      `SELECT id, hash FROM audit_log WHERE id = $1`,
      [pack.audit.checkpoint.headId],
    );
    expect(head.rows[0]?.hash).toBe(pack.audit.checkpoint.headHash);
    expect(pack.audit.checkpoint.headId).toBeGreaterThanOrEqual(
      Math.max(...pack.audit.entries.map((e: { id: number }) => e.id)),
    );
    expect(pack.audit.verification.ok).toBe(true);
    // Signed with the server's audit key (outside the database), so the oversight body can show it later.
    expect(loadAuditSigner({ dataDir: t.dataDir }).isGenuine(pack.audit.checkpoint)).toBe(true);
    for (const name of NAMES) expect(response.body).not.toContain(name);
    expect(response.body).not.toContain('data:image');
    const exported = await t.deps.db.query<{ id: string }>(
      `SELECT id FROM audit_log WHERE action = 'evidence_pack.export' AND target_id = $1`,
      [deployment.id],
    );
    expect(exported.rows.length).toBe(1);
    expect(Number(exported.rows[0]!.id)).toBeGreaterThan(pack.audit.checkpoint.headId);
  });

  it('refuses a calibration with an impossible false match rate', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/oversight/calibrations',
      headers: bearer(t.tokens.admin),
      payload: { model: 'test-model', nonMatedComparisons: 10, rows: [{ threshold: 0.5, fmr: 2 }] },
    });
    expect(response.statusCode).toBe(400);
  });

  it('keeps the use log, without images, after the alerts are deleted, and deletes it after its own period', async () => {
    expect(loadConfig({ VIGIL_DATA_DIR: t.dataDir }).VIGIL_USE_LOG_RETENTION_DAYS).toBe(183);
    expect(() => loadConfig({ VIGIL_DATA_DIR: t.dataDir, VIGIL_USE_LOG_RETENTION_DAYS: '0' })).toThrow(
      /VIGIL_USE_LOG_RETENTION_DAYS/,
    );
    const policy = { snapshotGraceHours: 24, alertRetentionDays: 31, useLogRetentionDays: 183 };
    const later = new RetentionService(
      createRepositories(t.deps.db),
      policy,
      () => new Date(Date.now() + 40 * DAY_MS),
    );
    const first = await later.run();
    expect(first.alerts.find((a) => a.deploymentId === deployment.id)?.alerts).toBe(5);
    expect(first.useLog).toEqual([]);
    const log = (await get(`/deployments/${deployment.id}/use-log`)).json();
    expect(log.entries.filter((e: { event: string }) => e.event === 'alert')).toHaveLength(5);
    // The snapshot's destruction (past VIGIL_SNAPSHOT_GRACE_HOURS) is on the log too.
    expect(log.entries.at(-1).event).toBe('snapshot_destroyed');
    const remaining = await t.deps.db.query('SELECT 1 FROM alerts WHERE deployment_id = $1', [deployment.id]);
    expect(remaining.rows).toHaveLength(0);
    const text = JSON.stringify(log);
    for (const alert of alerts) expect(text).not.toContain(alert.sealedProbe.toString('base64').slice(0, 40));

    const muchLater = new RetentionService(
      createRepositories(t.deps.db),
      policy,
      () => new Date(Date.now() + 200 * DAY_MS),
    );
    const second = await muchLater.run();
    expect(second.useLog).toEqual([{ deploymentId: deployment.id, entries: 14 }]);
    expect((await get(`/deployments/${deployment.id}/use-log`)).json().entries).toEqual([]);
    const audit = await t.deps.db.query(`SELECT 1 FROM audit_log WHERE action = 'retention.use_log_deleted'`);
    expect(audit.rows).toHaveLength(1);
  });
});
