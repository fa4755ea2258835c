import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger, createMetrics, deploymentSubjects } from '@vigil/core';
import {
  backendName,
  createTestBus,
  createTestDatabase,
  type TestDatabase,
  waitFor,
} from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraRepository } from '../src/camera.repository.js';
import { notifyDeploymentChanged } from '../src/control.js';
import { IngestService } from '../src/ingest.service.js';
import { makeTestVideo } from '../src/testing.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
let video: string;
let bus: Bus;
let testDb: TestDatabase;

describe(`ingest role reconciles cameras with the database (${backendName})`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-'));
    video = path.join(dir, 'pattern.mp4');
    makeTestVideo(video, { size: '320x240', fps: 10, seconds: 3 });
    bus = await createTestBus('ingest-service-test');
    testDb = await createTestDatabase();
  });

  afterAll(async () => {
    await bus.close();
    await testDb.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts the cameras of a running deployment, stops them at once on a stop notice and drops their series', async () => {
    const { db } = testDb;
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO deployments (name, threshold, model, status) VALUES ('gate', 0.6, 'm', 'planned') RETURNING id`,
    );
    const deploymentId = (rows[0] as { id: string }).id;
    const cams = await db.query<{ id: string }>(
      `INSERT INTO cameras (deployment_id, name, url, fps, realtime, loop)
       VALUES ($1, 'a', $2, 5, true, true), ($1, 'b', $2, 5, true, true) RETURNING id`,
      [deploymentId, video],
    );
    const frames = new Map<string, number>();
    const sub = bus.subscribe(deploymentSubjects('frames', deploymentId), (m) => {
      const camera = m.subject.split('.')[4] as string;
      frames.set(camera, (frames.get(camera) ?? 0) + 1);
    });
    const metrics = createMetrics({ role: 'ingest', processMetrics: false });
    // A long poll interval: only the start-up reconcile and the notices may change anything.
    const ingest = new IngestService(new CameraRepository(db), bus, logger, {
      reconcileIntervalMs: 600_000,
      statusIntervalMs: 250,
      metrics,
    });
    await ingest.start();
    try {
      expect(ingest.cameraIds).toEqual([]);
      await db.query(`UPDATE deployments SET status = 'running' WHERE id = $1`, [deploymentId]);
      notifyDeploymentChanged(bus, deploymentId, 'started');
      await waitFor(() => cams.rows.every((c) => (frames.get(c.id) ?? 0) >= 3), 20_000);
      expect(ingest.cameraIds.sort()).toEqual(cams.rows.map((c) => c.id).sort());
      await waitFor(async () =>
        (await metrics.text()).includes(`vigil_camera_online{deployment="${deploymentId}"`),
      );

      await db.query(`UPDATE deployments SET status = 'stopped' WHERE id = $1`, [deploymentId]);
      notifyDeploymentChanged(bus, deploymentId, 'stopped');
      await waitFor(() => ingest.cameraIds.length === 0, 10_000);
      await bus.flush();
      const after = new Map(frames);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(frames).toEqual(after);
      // Regression (issue 26): a stopped deployment's cameras left `vigil_camera_online 0` in the
      // scrape until the process restarted, which kept camera-offline alert rules firing.
      const text = await metrics.text();
      expect(text).toContain('vigil_camera_online');
      expect(text).not.toContain(deploymentId);
      for (const camera of cams.rows) expect(text).not.toContain(camera.id);
    } finally {
      await ingest.stop();
      sub.unsubscribe();
    }
  });
});
