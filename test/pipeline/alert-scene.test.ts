import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALERT_STREAM_SUBJECTS,
  alertSceneContext,
  allSubjects,
  type Bus,
  createLogger,
  DataCipher,
  deploymentSubjects,
  subject,
  subjectMatches,
} from '@vigil/core';
import {
  backendName,
  createTestBus,
  createTestDatabase,
  type TestDatabase,
  waitFor,
} from '@vigil/core/testing';
import { startDetectorWorker } from '@vigil/detector';
import { startEmbedderWorker } from '@vigil/embedder';
import {
  engineAnalyser,
  engineEmbedder,
  FaceEngine,
  LIVE_GATE,
  regionSharpness,
  type SceneBox,
} from '@vigil/face-runtime';
import {
  AlertScenes,
  DeploymentCounters,
  encodeProbeJpeg,
  MatchedAlertRepository,
  MatcherService,
  SnapshotRepository,
  startMatcherWorker,
} from '@vigil/matcher';
import { encodeFrame } from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  E2E_THRESHOLD,
  enrolmentImage,
  enrolSubject,
  SAMPLES,
  startDeployment,
} from './pipeline.fixtures.js';

/** sample1.jpg at the width of the pipeline tests' cameras: three people, the enrolled one on the right. */
const FRAME_WIDTH = 960;

describe(`the scene kept with an alert: matched face boxed, bystanders blurred, sealed (${backendName})`, () => {
  let dir: string;
  let testDb: TestDatabase;
  let bus: Bus;
  let engine: FaceEngine;
  const cipher = new DataCipher(randomBytes(32));
  const logger = createLogger({ level: 'silent' });
  let watchlists: { watchlistId: string; emptyWatchlistId: string };
  let frame: Buffer;
  /** Every face of the frame as the detector sees it, left to right. */
  let faces: SceneBox[];
  /** Every scene request on the bus, whoever made it. */
  const requests: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-scene-'));
    testDb = await createTestDatabase();
    bus = await createTestBus('alert-scene');
    engine = await FaceEngine.load({ profile: 'default' });
    watchlists = await enrolSubject(testDb.db, engine, cipher, enrolmentImage(dir));
    frame = await sharp(fs.readFileSync(path.join(SAMPLES, 'sample1.jpg')))
      .resize(FRAME_WIDTH)
      .jpeg({ quality: 90 })
      .toBuffer();
    faces = (await engine.detect(frame)).faces.map(({ face }) => face.box).sort((a, b) => a[0] - b[0]);
    bus.subscribe(allSubjects('scenes'), (message) => {
      requests.push(message.subject);
    });
  }, 120_000);
  afterAll(async () => {
    await engine?.dispose();
    await bus?.close();
    await testDb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Detector, embedder and matcher (with scenes) on one deployment's subjects; resolves to their stop. */
  async function pipelineFor(deploymentId: string): Promise<() => Promise<void>> {
    const alerts = new MatchedAlertRepository(testDb.db);
    const counters = new DeploymentCounters(testDb.db, logger);
    const matcher = startMatcherWorker({
      bus,
      service: new MatcherService(
        {
          snapshots: new SnapshotRepository(testDb.db),
          alerts,
          counters,
          cipher,
          encodeProbe: encodeProbeJpeg,
          logger,
        },
        { hnswMinSize: 1000, cooldownSeconds: 0 },
      ),
      logger,
      alerts,
      scenes: new AlertScenes({ bus, alerts, cipher, logger }),
      subject: deploymentSubjects('embeddings', deploymentId),
    });
    const embedder = startEmbedderWorker({
      bus,
      embedder: engineEmbedder(engine),
      logger,
      subject: deploymentSubjects('faces', deploymentId),
    });
    const detector = startDetectorWorker({
      bus,
      analyser: engineAnalyser(engine),
      logger,
      gate: LIVE_GATE,
      subject: deploymentSubjects('frames', deploymentId),
    });
    if (bus.kind === 'nats') await bus.flush();
    return async () => {
      await detector.stop();
      await embedder.stop();
      await matcher.stop();
      await counters.close();
    };
  }

  /** A running deployment of `watchlistId`'s snapshot at the end-to-end threshold, with one camera. */
  const deploymentOf = (watchlistId: string) =>
    startDeployment(testDb.db, {
      watchlistId,
      model: engine.profile.modelId,
      threshold: E2E_THRESHOLD,
      video: 'unused.mp4',
      fps: 1,
    });

  async function show(deploymentId: string, cameraId: string): Promise<void> {
    bus.publish(
      subject('frames', deploymentId, cameraId),
      encodeFrame({ deploymentId, cameraId, sequence: 1, capturedAtMs: Date.now(), jpeg: frame }),
    );
    await bus.flush();
  }

  it('stores the frame with the alert, sealed to its row: a JPEG with the matched face sharp and the two others blurred', async () => {
    const { deploymentId, cameraId } = await deploymentOf(watchlists.watchlistId);
    const stop = await pipelineFor(deploymentId);
    try {
      await show(deploymentId, cameraId);
      const stored = await waitFor(async () => {
        const { rows } = await testDb.db.query<{ encrypted_scene: Uint8Array | null; dedupe_key: string }>(
          'SELECT encrypted_scene, dedupe_key FROM alerts WHERE deployment_id = $1',
          [deploymentId],
        );
        const row = rows[0];
        return row?.encrypted_scene ? { sealed: row.encrypted_scene, dedupeKey: row.dedupe_key } : undefined;
      }, 60_000);
      if (!stored) throw new Error('no scene was stored');
      const { sealed, dedupeKey } = stored;
      // Sealed: the plain JPEG is nowhere in the stored bytes, and it opens only in its own row.
      expect(Buffer.from(sealed).indexOf(Buffer.from([0xff, 0xd8, 0xff]))).toBe(-1);
      expect(() => cipher.open(sealed, alertSceneContext('another-alert'))).toThrow();
      const scene = cipher.open(sealed, alertSceneContext(dedupeKey));
      const meta = await sharp(scene).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width: FRAME_WIDTH });

      const [left, middle, enrolled] = faces as [SceneBox, SceneBox, SceneBox];
      // The frame itself through the same JPEG encoding, for what each region looked like before.
      const plain = await sharp(frame).jpeg({ quality: 80 }).toBuffer();
      const inner = (b: SceneBox): SceneBox => [b[0] + 6, b[1] + 6, b[2] - 12, b[3] - 12];
      expect(await regionSharpness(scene, inner(enrolled))).toBeGreaterThan(
        (await regionSharpness(plain, inner(enrolled))) * 0.7,
      );
      for (const bystander of [left, middle]) {
        const before = await regionSharpness(plain, bystander);
        const after = await regionSharpness(scene, bystander);
        expect(after).toBeLessThan(before * 0.1);
      }
      // Nothing of the scene reached the alert stream.
      expect(requests.every((s) => !ALERT_STREAM_SUBJECTS.some((p) => subjectMatches(p, s)))).toBe(true);
    } finally {
      await stop();
    }
  }, 120_000);

  it('a frame whose faces match nothing causes no scene request and stores nothing', async () => {
    const { deploymentId, cameraId } = await deploymentOf(watchlists.emptyWatchlistId);
    const counted = requests.length;
    const stop = await pipelineFor(deploymentId);
    try {
      await show(deploymentId, cameraId);
      // The matcher counts each face it compared (counters are written every few seconds).
      await waitFor(async () => {
        const { rows } = await testDb.db.query<{ n: string | number }>(
          'SELECT coalesce(sum(faces_processed), 0) AS n FROM deployment_counters WHERE deployment_id = $1',
          [deploymentId],
        );
        return Number(rows[0]?.n) === 3;
      }, 60_000);
    } finally {
      await stop();
    }
    const alerts = await testDb.db.query('SELECT 1 FROM alerts WHERE deployment_id = $1', [deploymentId]);
    expect(alerts.rows).toHaveLength(0);
    expect(requests.slice(counted)).toEqual([]);
  }, 120_000);
});
