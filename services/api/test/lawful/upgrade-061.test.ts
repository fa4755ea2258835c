import { randomBytes, randomUUID } from 'node:crypto';
import { listMigrations, migrate } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWatchlist, testCipher } from '../oversight/fixtures.js';
import { bearer, createTestApp, type TestApp } from '../test-app.js';

describe(`migration 061 keeps existing deployments and alerts usable (${backendName})`, () => {
  let testDb: TestDatabase;
  let t: TestApp;
  let deploymentId: string;
  let alertId: number;

  beforeAll(async () => {
    testDb = await createTestDatabase({ migrate: false });
    const { db } = testDb;
    await migrate(
      db,
      listMigrations().filter((m) => m.version < 61),
    );
    const list = await createWatchlist(db, testCipher(), [{ label: 'Old Entry', category: 'wanted' }]);
    const deployment = await db.query<{ id: string }>(
      `INSERT INTO deployments (name, location, threshold, model, status, started_at)
       VALUES ('old running', 'Old place', 0.6, 'test-model', 'running', now() - interval '1 hour') RETURNING id`,
    );
    deploymentId = deployment.rows[0]!.id;
    const camera = await db.query<{ id: string }>(
      `INSERT INTO cameras (deployment_id, name, url) VALUES ($1, 'old camera', 'rtsp://camera.invalid/s') RETURNING id`,
      [deploymentId],
    );
    // Written as the matcher wrote alerts then: today's repository also sets columns later
    // migrations add.
    const subject = list.subjects[0]!;
    const alert = await db.query<{ id: string | number }>(
      `INSERT INTO alerts (deployment_id, camera_id, subject_id, reference_image_id, track_id, label, category,
                           priority, score, threshold, captured_at, encrypted_probe, dedupe_key)
       VALUES ($1, $2, $3, $4, 'old-track', $5, $6, 'red', 0.81, 0.6, now() - interval '10 minutes', $7, $8)
       RETURNING id`,
      [
        deploymentId,
        camera.rows[0]!.id,
        subject.id,
        subject.referenceImageIds[0],
        subject.label,
        subject.category,
        testCipher().seal(randomBytes(2048)),
        randomUUID(),
      ],
    );
    alertId = Number(alert.rows[0]!.id);
    await db.query(
      `INSERT INTO adjudications (alert_id, outcome, created_at) VALUES ($1, 'false_alert', now() - interval '8 minutes')`,
      [alertId],
    );
    await migrate(db);
    t = await createTestApp({ db });
  });
  afterAll(async () => {
    await t?.close();
    await testDb?.drop();
  });

  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(t.tokens.admin), payload });

  it('leaves two-person verification off, so one operator still confirms an existing alert', async () => {
    expect((await call('GET', `/deployments/${deploymentId}/verification`)).json().required).toBe(false);
    const confirmed = await call('POST', `/alerts/${alertId}/adjudication`, { outcome: 'confirmed' });
    expect(confirmed.statusCode, confirmed.body).toBe(201);
  });

  it('counts the alerts from before the upgrade in the published record', async () => {
    const record = (await call('GET', `/deployments/${deploymentId}/published-record`)).json();
    expect(record).toMatchObject({
      alerts: 1,
      trueAlerts: 1,
      location: 'Old place',
      expectedFalseAlerts: null,
    });
  });

  it('starts the use log at the upgrade: later events only, the earlier ones are on the audit trail', async () => {
    const log = (await call('GET', `/deployments/${deploymentId}/use-log`)).json();
    expect(log.entries.map((e: { event: string }) => e.event)).toEqual(['outcome']);
    expect(log.entries[0]).toMatchObject({
      alertId: String(alertId),
      details: { outcome: 'confirmed', username: 'admin' },
    });
  });
});
