import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '@vigil/api';
import { type Bus, createLogger, createMetrics, loadConfig } from '@vigil/core';
import {
  backendName,
  createTestBus,
  createTestDatabase,
  type TestDatabase,
  waitFor,
} from '@vigil/core/testing';
import { startDetectorWorker } from '@vigil/detector';
import { engineAnalyser, FaceEngine, LIVE_GATE } from '@vigil/face-runtime';
import { CameraRepository, CameraStatusTracker, IngestService } from '@vigil/ingest';
import { makeTestVideo } from '@vigil/ingest/testing';
import { DeploymentCounters } from '@vigil/matcher';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseDeployment, createAuthoriser } from '../../services/api/test/authorisation.fixture.js';
import { injectCaller } from '../../services/api/test/test-app.js';

const logger = createLogger({ level: 'silent' });
const ADMIN_PASSWORD = 'correct horse battery staple';
/** Short, so that the test waits 2 s rather than 5 for "read but not analysed". */
const ANALYSIS_WINDOW_MS = 2000;

let dir: string;
let testDb: TestDatabase;
let bus: Bus;
let app: FastifyInstance;
let tracker: CameraStatusTracker;
let token: string;

async function call(method: 'GET' | 'POST', url: string, payload?: unknown) {
  return app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    payload: payload as object,
  });
}

type CameraStatus = {
  status: string;
  fps: number;
  framesTotal: number;
  framesNotAnalysed: Record<string, number>;
  analysedFps: number;
  state: string;
  reason: string | null;
  missingStage: string | null;
};

// Regression (issue #26): a camera whose frames no detector analysed still showed "online, 10 fps".
describe(`camera status tells frames read from frames analysed (${backendName})`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-camera-health-'));
    testDb = await createTestDatabase();
    bus = await createTestBus('camera-health');
    tracker = new CameraStatusTracker(bus, { analysisWindowMs: ANALYSIS_WINDOW_MS }).start();
    const config = loadConfig({
      VIGIL_DATA_DIR: dir,
      VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      VIGIL_THRESHOLD_FLOOR: '0.5',
    });
    app = await buildApp({ config, db: testDb.db, bus, logger, cameraStatus: tracker, announce: () => {} });
    await app.ready();
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
    token = login.json().token;
  });

  afterAll(async () => {
    tracker?.stop();
    await app?.close();
    await bus?.close();
    await testDb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports a camera read with no detector as degraded, not_analysed, missing the detector; analysed fps once one runs', async () => {
    const video = makeTestVideo(path.join(dir, 'pattern.mp4'), { size: '320x240', fps: 10, seconds: 3 });
    // An empty watchlist: a deployment starts only with one, and no face needs to match here.
    const watchlist = await call('POST', '/api/v1/watchlists', { name: 'Wanted', description: '' });
    expect(watchlist.statusCode, watchlist.body).toBe(201);
    const created = await call('POST', '/api/v1/deployments', {
      name: 'Gate',
      threshold: 0.6,
      watchlistIds: [watchlist.json().id],
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const camera = await call('POST', `/api/v1/deployments/${id}/cameras`, {
      name: 'Entrance',
      url: video,
      fps: 5,
      realtime: true,
      loop: true,
    });
    expect(camera.statusCode, camera.body).toBe(201);
    const admin = injectCaller(app, token);
    await authoriseDeployment(admin, await createAuthoriser(admin, (t) => injectCaller(app, t)), id);
    const started = await call('POST', `/api/v1/deployments/${id}/start`);
    expect(started.statusCode, started.body).toBe(200);

    const counters = new DeploymentCounters(testDb.db, logger, 100);
    const metrics = createMetrics({ role: 'ingest', processMetrics: false });
    const ingest = new IngestService(new CameraRepository(testDb.db), bus, logger, {
      reconcileIntervalMs: 600_000,
      statusIntervalMs: 250,
      metrics,
      accounting: {
        read: (deploymentId, cameraId, frames) =>
          counters.add(deploymentId, cameraId, { framesRead: frames }),
        notAnalysed: (deploymentId, cameraId, reason, frames) =>
          counters.addNotAnalysed(deploymentId, cameraId, reason, frames),
      },
    });
    await ingest.start();
    const cameraStatus = async (): Promise<CameraStatus | undefined> =>
      (await call('GET', `/api/v1/deployments/${id}/status`)).json().cameras?.[0];
    try {
      // Ingest reads the camera and no detector runs.
      const unanalysed = await waitFor(async () => {
        const view = await cameraStatus();
        return view?.state === 'degraded' ? view : undefined;
      }, 30_000);
      expect(unanalysed).toMatchObject({
        status: 'online',
        analysedFps: 0,
        state: 'degraded',
        reason: 'not_analysed',
        missingStage: 'detector',
      });
      expect(unanalysed?.fps).toBeGreaterThan(0);
      expect(unanalysed?.framesTotal).toBeGreaterThan(0);
      const notAnalysed = await app.inject({ method: 'GET', url: '/ready' });
      // Advisory: the API itself stays ready, and says which stage is missing.
      expect(notAnalysed.statusCode).toBe(200);
      expect(notAnalysed.json().checks.detector).toEqual({
        ok: false,
        error: 'not_analysed',
        advisory: true,
      });
      expect(notAnalysed.json().checks.ingest).toEqual({ ok: true, advisory: true });
      // Issue 26 item 6: the frames no detector took are counted as such, in the status and the statistics.
      const unreported = await waitFor(async () => {
        const view = await cameraStatus();
        return (view?.framesNotAnalysed.detector_unavailable ?? 0) > 0 ? view : undefined;
      }, 15_000);
      expect(unreported?.framesNotAnalysed).toMatchObject({
        queue_full: 0,
        publish_failed: 0,
        detector_busy: 0,
      });
      expect(await metrics.registry.getSingleMetricAsString('vigil_frames_dropped_total')).toContain(
        'reason="detector_unavailable"',
      );
      await counters.flush();
      const stats = (await call('GET', `/api/v1/deployments/${id}/stats`)).json();
      expect(stats.framesRead).toBeGreaterThan(0);
      expect(stats.framesNotAnalysed.byReason.detector_unavailable).toBeGreaterThan(0);
      expect(stats.framesNotAnalysed.total).toBe(stats.framesNotAnalysed.byReason.detector_unavailable);
      expect(stats.watchedShare).toBe(0);

      // A detector starts taking the camera's frames.
      const engine = await FaceEngine.load({ profile: 'default' });
      const detector = startDetectorWorker({
        bus,
        analyser: engineAnalyser(engine),
        logger,
        gate: LIVE_GATE,
        countersIntervalMs: 250,
      });
      try {
        const analysed = await waitFor(async () => {
          const view = await cameraStatus();
          return view?.state === 'online' && view.analysedFps > 0 ? view : undefined;
        }, 30_000);
        expect(analysed).toMatchObject({
          status: 'online',
          state: 'online',
          reason: null,
          missingStage: null,
        });
        expect(analysed?.analysedFps).toBeGreaterThan(0);
        const ready = await app.inject({ method: 'GET', url: '/api/v1/ready' });
        expect(ready.json().checks.detector).toEqual({ ok: true, advisory: true });
        // With a detector taking every frame, no more go uncounted: the count stops growing.
        const lost = (await cameraStatus())?.framesNotAnalysed.detector_unavailable ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 7000));
        expect((await cameraStatus())?.framesNotAnalysed.detector_unavailable).toBeLessThanOrEqual(lost + 5);
      } finally {
        await detector.stop();
        await engine.dispose();
      }
    } finally {
      await ingest.stop();
      await counters.close();
    }
  });
});
