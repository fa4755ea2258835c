import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  type Bus,
  createLogger,
  createMetrics,
  createReadiness,
  DataCipher,
  deploymentSubjects,
  loadConfig,
  type NatsBus,
  subject,
} from '@vigil/core';
import {
  backendName,
  createTestBus,
  createTestDatabase,
  type TestDatabase,
  waitFor,
} from '@vigil/core/testing';
import { FaceEngine } from '@vigil/face-runtime';
import { CameraStatusTracker, notifyDeploymentChanged } from '@vigil/ingest';
import { type Alert, decodeAlert, decodeFrame } from '@vigil/proto';
import { startPipeline } from '@vigil/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E2E_THRESHOLD,
  enrolmentImage,
  enrolSubject,
  makeVideo,
  PHOTO_SECONDS,
  startDeployment,
  tableCounts,
} from './pipeline.fixtures.js';

/** One sampled frame a second per camera: two cameras stay within one detector thread's budget. */
const CAMERA_FPS = 1;

let dir: string;
let dataDir: string;
let testDb: TestDatabase;
let bus: Bus;
const logLines: string[] = [];
let before: Record<string, number>;
let after: Record<string, number>;
let watched: { deploymentId: string; cameraId: string };
let unwatched: { deploymentId: string; cameraId: string };
let enrolled: { subjectId: string };
const published = new Map<string, Alert[]>();
let firstFrameAtMs = 0;

describe(`live pipeline end to end: video file camera to alerts (${backendName})`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-e2e-'));
    dataDir = path.join(dir, 'data');
    const video = makeVideo(dir);
    const photo = enrolmentImage(dir);
    testDb = await createTestDatabase();
    const { db } = testDb;
    bus = await createTestBus('pipeline-e2e');
    const key = randomBytes(32);
    const cipher = new DataCipher(key);
    const engine = await FaceEngine.load({ profile: 'default' });
    const model = engine.profile.modelId;
    const watchlists = await enrolSubject(db, engine, cipher, photo);
    await engine.dispose();
    enrolled = watchlists;

    const config = loadConfig({
      VIGIL_DATA_DIR: dataDir,
      VIGIL_DATA_KEY: key.toString('base64'),
      // Every matching track alerts, so a false alert on anyone else cannot hide in a cooldown.
      VIGIL_ALERT_COOLDOWN_SECONDS: '0',
    });
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          logLines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
    });
    const stop = await startPipeline({
      config,
      logger,
      db,
      bus,
      metrics: createMetrics({ role: 'all', processMetrics: false }),
      readiness: createReadiness({ db, bus }),
      roles: { ingest: true, detector: true, embedder: true, matcher: true },
      threads: true,
    });
    const tracker = new CameraStatusTracker(bus).start();
    try {
      watched = await startDeployment(db, {
        watchlistId: watchlists.watchlistId,
        model,
        threshold: E2E_THRESHOLD,
        video,
        fps: CAMERA_FPS,
      });
      unwatched = await startDeployment(db, {
        watchlistId: watchlists.emptyWatchlistId,
        model,
        threshold: E2E_THRESHOLD,
        video,
        fps: CAMERA_FPS,
      });
      const frames = bus.subscribe(subject('frames', watched.deploymentId, watched.cameraId), (m) => {
        firstFrameAtMs ||= decodeFrame(m.data).capturedAtMs;
      });
      const consumers = await Promise.all(
        [watched, unwatched].map((d) =>
          bus.durable.consume(
            {
              durableName: `e2e-${d.deploymentId.slice(0, 8)}`,
              filter: deploymentSubjects('alerts', d.deploymentId),
            },
            async (m) => {
              published.set(d.deploymentId, [...(published.get(d.deploymentId) ?? []), decodeAlert(m.data)]);
            },
          ),
        ),
      );
      before = await tableCounts(db);
      notifyDeploymentChanged(bus, watched.deploymentId, 'started');
      notifyDeploymentChanged(bus, unwatched.deploymentId, 'started');
      // The file plays once in real time; the camera then reports the stream ended.
      await waitFor(
        () => [watched, unwatched].every((d) => tracker.get(d.cameraId)?.lastErrorCode === 'stream_ended'),
        90_000,
        200,
      );
      frames.unsubscribe();
      await stop();
      await waitFor(() => (published.get(watched.deploymentId)?.length ?? 0) > 0, 10_000).catch(() => {});
      for (const consumer of consumers) await consumer.stop();
    } finally {
      tracker.stop();
    }
    after = await tableCounts(db);
  }, 180_000);

  afterAll(async () => {
    await bus?.close();
    await testDb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stores and publishes alerts for the enrolled person only, while her photo is on screen', async () => {
    const { rows } = await testDb.db.query<{
      id: string;
      subject_id: string;
      track_id: string;
      captured_at: Date;
      score: number;
      camera_id: string;
    }>(
      `SELECT id::text AS id, subject_id, track_id, captured_at, score, camera_id FROM alerts WHERE deployment_id = $1 ORDER BY id`,
      [watched.deploymentId],
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(new Set(rows.map((r) => r.subject_id))).toEqual(new Set([enrolled.subjectId]));
    expect(new Set(rows.map((r) => r.camera_id))).toEqual(new Set([watched.cameraId]));
    // Tracking holds one track per person on screen (face-tracker.test.ts); a detector that drops
    // frames under load may start a second one, so only an upper bound is held here.
    expect(new Set(rows.map((r) => r.track_id)).size).toBeLessThanOrEqual(2);
    // Her photo is the first of the video: every alert was captured during its first PHOTO_SECONDS.
    for (const row of rows) {
      const at = new Date(row.captured_at).getTime() - firstFrameAtMs;
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(PHOTO_SECONDS * 1000 + 1000);
      expect(row.score).toBeGreaterThanOrEqual(E2E_THRESHOLD);
    }
    const alerts = published.get(watched.deploymentId) ?? [];
    expect(alerts.map((a) => a.id).sort()).toEqual(rows.map((r) => r.id).sort());
    // No crop on the stream (it would sit there unencrypted); the alert row holds it sealed.
    expect(alerts.every((a) => a.subjectId === enrolled.subjectId && a.probeJpeg.length === 0)).toBe(true);
  });

  it('gives zero alerts on the same video with an empty watchlist, though its faces were processed', async () => {
    const { rows } = await testDb.db.query(`SELECT 1 FROM alerts WHERE deployment_id = $1`, [
      unwatched.deploymentId,
    ]);
    expect(rows).toHaveLength(0);
    expect(published.get(unwatched.deploymentId) ?? []).toHaveLength(0);
    const counters = await testDb.db.query<{
      deployment_id: string;
      frames: string;
      faces_processed: string;
      faces_matched: string;
    }>(
      `SELECT deployment_id, sum(frames)::text AS frames, sum(faces_processed)::text AS faces_processed,
              sum(faces_matched)::text AS faces_matched
         FROM deployment_counters GROUP BY deployment_id`,
    );
    const by = new Map(counters.rows.map((r) => [r.deployment_id, r]));
    expect(Number(by.get(unwatched.deploymentId)?.frames)).toBeGreaterThan(0);
    expect(Number(by.get(unwatched.deploymentId)?.faces_processed)).toBeGreaterThan(0);
    expect(Number(by.get(unwatched.deploymentId)?.faces_matched)).toBe(0);
    expect(Number(by.get(watched.deploymentId)?.faces_processed)).toBeGreaterThan(
      Number(by.get(watched.deploymentId)?.faces_matched),
    );
  });

  it('leaves no row of a non-matching face: only alerts, their log of use and counters grew', async () => {
    const grew = Object.keys(after).filter((table) => after[table] !== before[table]);
    // Frames not analysed are counts per camera and reason; a queue that never filled writes none.
    expect(grew.filter((table) => table !== 'deployment_frames_not_analysed').sort()).toEqual([
      'alerts',
      'deployment_counters',
      'deployment_use_log',
    ]);
    // The log of each use holds one row per alert (its input), nothing about a face that matched nothing.
    expect((after.deployment_use_log ?? 0) - (before.deployment_use_log ?? 0)).toBe(
      (after.alerts ?? 0) - (before.alerts ?? 0),
    );
    const alerts = await testDb.db.query(`SELECT 1 FROM alerts`);
    expect(after.alerts).toBe(alerts.rows.length);
    expect(after.alerts).toBe((before.alerts ?? 0) + (published.get(watched.deploymentId)?.length ?? 0));
    // The only embeddings stored are the enrolled reference and its snapshot copy.
    expect(after.embeddings).toBe(1);
    expect(after.snapshot_entries).toBe(1);
  });

  it('writes no file to the data dir and no embedding, crop or frame to the log', () => {
    const files = fs.existsSync(dataDir) ? fs.readdirSync(dataDir, { recursive: true }) : [];
    expect(files).toEqual([]);
    expect(logLines.length).toBeGreaterThan(0);
    const base64Run = /[A-Za-z0-9+/]{120,}={0,2}/;
    const floatList = /(-?\d+\.\d+\s*,\s*){15,}/;
    const leaks = logLines.filter(
      (line) =>
        base64Run.test(line) ||
        floatList.test(line) ||
        line.includes('/9j/') ||
        line.includes('"type":"Buffer"'),
    );
    expect(leaks).toEqual([]);
  });

  it.runIf(process.env.NATS_URL)(
    'retains nothing in JetStream but the alerts of the watched deployment',
    async () => {
      const jsm = await jetstreamManager((bus as NatsBus).connection);
      for (const kind of ['frames', 'faces', 'embeddings'] as const) {
        await expect(
          jsm.streams.find(subject(kind, watched.deploymentId, watched.cameraId)),
        ).rejects.toThrow();
      }
      const streams = await jsm.streams.list().next();
      for (const stream of streams) {
        expect(stream.config.subjects.every((s) => s.split('.')[3] === 'alerts')).toBe(true);
      }
      const info = await jsm.streams.info('VIGIL_ALERTS', { subjects_filter: `vigil.v1.*.alerts.*` });
      const counts = info.state.subjects ?? {};
      expect(counts[subject('alerts', unwatched.deploymentId, unwatched.cameraId)]).toBeUndefined();
      expect(counts[subject('alerts', watched.deploymentId, watched.cameraId)]).toBe(
        published.get(watched.deploymentId)?.length,
      );
    },
  );
});
