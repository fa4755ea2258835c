import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Bus,
  type BusSubscription,
  createLogger,
  createMetrics,
  type Database,
  DataCipher,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase, waitFor } from '@vigil/core/testing';
import { startDetectorWorker } from '@vigil/detector';
import { startEmbedderWorker } from '@vigil/embedder';
import { engineAnalyser, engineEmbedder, FaceEngine, LIVE_GATE } from '@vigil/face-runtime';
import { CameraStatusTracker } from '@vigil/ingest';
import {
  DeploymentCounters,
  encodeProbeJpeg,
  MatchedAlertRepository,
  MatcherService,
  SnapshotRepository,
  startMatcherWorker,
} from '@vigil/matcher';
import {
  CameraState,
  decodeAlert,
  decodeCameraStatus,
  decodeDeploymentChanged,
  decodeEmbedding,
  decodeFace,
  decodeFrame,
  decodeSceneImage,
  decodeSceneRequest,
  decodeStageCounters,
  encodeAlert,
  encodeCameraStatus,
  encodeDeploymentChanged,
  encodeEmbedding,
  encodeFace,
  encodeFrame,
  encodeSceneImage,
  encodeSceneRequest,
  encodeStageCounters,
} from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_SEED, FuzzRandom } from './fuzz-random.js';
import { createIsolatedBus, type IsolatedBus } from './private-nats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLE = path.join(root, 'node_modules/@vladmandic/face-api/demo/sample1.jpg');
const logger = createLogger({ level: 'silent' });
const DEPLOYMENT = '6f1d2c3b-0000-4000-8000-00000000f001';
const CAMERA = '6f1d2c3b-0000-4000-8000-00000000c001';
const frameRef = () => ({
  deploymentId: DEPLOYMENT,
  cameraId: CAMERA,
  sequence: 7,
  capturedAtMs: Date.now(),
});

/** One valid message of each kind, and its decoder: the seeds the mutations start from. */
const SUBJECTS = {
  frames: {
    decode: decodeFrame,
    sample: () =>
      encodeFrame({
        ...frameRef(),
        jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]),
        width: 4,
        height: 4,
      }),
  },
  faces: {
    decode: decodeFace,
    sample: () =>
      encodeFace({
        frame: frameRef(),
        trackId: 'abc',
        crop: new Uint8Array(48),
        cropWidth: 4,
        cropHeight: 4,
        qualityScore: 0.5,
      }),
  },
  embeddings: {
    decode: decodeEmbedding,
    sample: () =>
      encodeEmbedding({
        frame: frameRef(),
        trackId: 'abc',
        modelId: 'm',
        vector: [0.1, 0.2, 0.3],
        crop: new Uint8Array(12),
        cropWidth: 2,
        cropHeight: 2,
      }),
  },
  alerts: {
    decode: decodeAlert,
    sample: () =>
      encodeAlert({
        id: '12',
        deploymentId: DEPLOYMENT,
        cameraId: CAMERA,
        subjectId: CAMERA,
        label: 'Jane',
        category: 'wanted',
        priority: 'red',
        score: 0.6,
        threshold: 0.5,
      }),
  },
  status: {
    decode: decodeCameraStatus,
    sample: () =>
      encodeCameraStatus({
        deploymentId: DEPLOYMENT,
        cameraId: CAMERA,
        state: CameraState.ONLINE,
        fps: 9.5,
        framesTotal: 100,
      }),
  },
  counters: {
    decode: decodeStageCounters,
    sample: () => encodeStageCounters({ deploymentId: DEPLOYMENT, cameraId: CAMERA }),
  },
  control: {
    decode: decodeDeploymentChanged,
    sample: () => encodeDeploymentChanged({ deploymentId: DEPLOYMENT, reason: 'started' }),
  },
  scenes: {
    decode: decodeSceneRequest,
    sample: () =>
      encodeSceneRequest({ frame: frameRef(), trackId: 'abc', box: { x: 1, y: 2, width: 30, height: 40 } }),
  },
  liveview: {
    decode: decodeSceneImage,
    sample: () =>
      encodeSceneImage({
        jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]),
        width: 4,
        height: 4,
        capturedAtMs: Date.now(),
      }),
  },
} as const;

/** Random bytes (half of them) and mutations of a valid message (the other half). */
function hostilePayloads(random: FuzzRandom, sample: Uint8Array, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) out.push(random.bytes(random.int(0, random.next() < 0.9 ? 64 : 2048)));
    else {
      let bytes = sample;
      for (let m = random.int(1, 3); m > 0; m--) bytes = random.mutate(bytes);
      out.push(bytes);
    }
  }
  return out;
}

function decodes(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): boolean {
  try {
    decode(bytes);
    return true;
  } catch {
    return false;
  }
}

async function counterValue(
  metrics: VigilMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Waits for a counter to reach `want`; the message names both values when it does not. */
async function counterReaches(
  metrics: VigilMetrics,
  name: string,
  labels: Record<string, string>,
  want: number,
): Promise<void> {
  try {
    await waitFor(async () => (await counterValue(metrics, name, labels)) === want, 30_000);
  } catch {
    expect(await counterValue(metrics, name, labels), `${name} ${JSON.stringify(labels)}`).toBe(want);
  }
}

async function idle(sub: BusSubscription, bus: Bus): Promise<void> {
  await bus.flush();
  await waitFor(() => sub.pending === 0, 30_000);
}

describe(`protobuf decoders of every bus subject (seed ${FUZZ_SEED})`, () => {
  for (const [kind, { decode, sample }] of Object.entries(SUBJECTS)) {
    it(`${kind}: random and mutated bytes decode to a message or throw an Error, never anything else (seed ${FUZZ_SEED})`, () => {
      const random = new FuzzRandom(FUZZ_SEED + kind.length);
      let rejected = 0;
      for (const bytes of hostilePayloads(random, sample(), 3000)) {
        try {
          const message = (decode as (b: Uint8Array) => object)(bytes);
          expect(typeof message).toBe('object');
        } catch (error) {
          expect(error, kind).toBeInstanceOf(Error);
          rejected++;
        }
      }
      console.info(`${kind}: ${rejected} of 3000 rejected`);
      expect(rejected).toBeGreaterThan(300);
    });
  }
});

describe(`malformed messages on the bus are dropped and counted by each worker (${backendName}, seed ${FUZZ_SEED})`, () => {
  let testDb: TestDatabase;
  let db: Database;
  let bus: Bus;
  let isolated: IsolatedBus;
  let engine: FaceEngine;
  let faceJpeg: Uint8Array;
  /** A deployment of its own per run, so workers of other tests on the same nats-server never see these. */
  const deploymentId = randomUUID();

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = testDb.db;
    isolated = await createIsolatedBus('bus-fuzz');
    bus = isolated.bus;
    engine = await FaceEngine.load({ threads: 1 });
    faceJpeg = new Uint8Array(
      await sharp(fs.readFileSync(SAMPLE))
        .extract({ left: 1300, top: 50, width: 600, height: 700 })
        .resize(300)
        .jpeg()
        .toBuffer(),
    );
  });
  afterAll(async () => {
    await engine?.dispose();
    await isolated?.close();
    await testDb?.drop();
  });

  it(`detector: undecodable frames counted as dropped, mutated ones handled, a real frame still detected (seed ${FUZZ_SEED})`, async () => {
    const metrics = createMetrics({ role: 'detector', processMetrics: false });
    const frames = `vigil.v1.${deploymentId}.frames.*`;
    const worker = startDetectorWorker({
      bus,
      analyser: engineAnalyser(engine),
      logger,
      gate: LIVE_GATE,
      metrics,
      subject: frames,
      // Room for the whole burst: every message reaches the handler rather than the queue's own drop count.
      maxPending: 10_000,
    });
    const faces: Uint8Array[] = [];
    const out = bus.subscribe(subject('faces', deploymentId, CAMERA), (m) => void faces.push(m.data));
    try {
      const random = new FuzzRandom(FUZZ_SEED + 10);
      const valid = encodeFrame({
        deploymentId,
        cameraId: CAMERA,
        sequence: 1,
        capturedAtMs: Date.now(),
        jpeg: faceJpeg,
      });
      const payloads = hostilePayloads(random, valid, 400);
      const undecodable = payloads.filter((p) => !decodes(decodeFrame, p)).length;
      for (const payload of payloads) bus.publish(subject('frames', deploymentId, CAMERA), payload);
      await idle(worker.subscription, bus);
      await counterReaches(
        metrics,
        'vigil_queue_dropped_total',
        {
          stage: 'frames',
          reason: 'decode_error',
        },
        undecodable,
      );
      bus.publish(
        subject('frames', deploymentId, CAMERA),
        encodeFrame({
          deploymentId,
          cameraId: CAMERA,
          sequence: 2,
          capturedAtMs: Date.now(),
          jpeg: faceJpeg,
        }),
      );
      await waitFor(() => faces.length > 0, 30_000);
      const face = decodeFace(faces.at(-1) as Uint8Array);
      expect(face.frame?.deploymentId).toBe(deploymentId);
      expect(undecodable).toBeGreaterThan(100);
      // Scene requests: hostile ones are ignored, and the frame of that face is still composed after them.
      const request = encodeSceneRequest({ frame: face.frame, trackId: face.trackId, box: face.box });
      for (const payload of hostilePayloads(random, request, 200))
        bus.publish(subject('scenes', deploymentId, CAMERA), payload);
      // The burst overflows the responder's bounded queue (dropped, like a slow NATS consumer): ask until it drained.
      const answer = await waitFor(
        () =>
          bus
            .request(subject('scenes', deploymentId, CAMERA), request, { timeoutMs: 2000 })
            .catch(() => undefined),
        30_000,
      );
      if (!answer) throw new Error('the scene request was never answered');
      expect([...decodeSceneImage(answer.data).jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    } finally {
      out.unsubscribe();
      await worker.stop();
    }
  });

  it(`embedder: undecodable faces and crops of the wrong size counted as dropped, and they never fail a good face batched with them (seed ${FUZZ_SEED})`, async () => {
    const metrics = createMetrics({ role: 'embedder', processMetrics: false });
    const embedder = engineEmbedder(engine);
    const [w, h] = engine.cropSize;
    const worker = startEmbedderWorker({
      bus,
      embedder,
      logger,
      metrics,
      subject: `vigil.v1.${deploymentId}.faces.*`,
      maxPending: 10_000,
      batchWaitMs: 20,
    });
    const embeddings: Uint8Array[] = [];
    const out = bus.subscribe(
      subject('embeddings', deploymentId, CAMERA),
      (m) => void embeddings.push(m.data),
    );
    try {
      const random = new FuzzRandom(FUZZ_SEED + 11);
      const goodFace = () =>
        encodeFace({
          frame: { deploymentId, cameraId: CAMERA, sequence: 1, capturedAtMs: Date.now() },
          trackId: 't1',
          crop: new Uint8Array(w * h * 3).fill(128),
          cropWidth: w,
          cropHeight: h,
        });
      // Mutations of a small face: a wrong-size crop, so every one is malformed whether or not it decodes.
      const payloads = hostilePayloads(random, SUBJECTS.faces.sample(), 300);
      const wellFormed = (p: Uint8Array) => {
        try {
          const face = decodeFace(p);
          return Boolean(face.frame) && face.crop.length === w * h * 3;
        } catch {
          return false;
        }
      };
      const malformed = payloads.filter((p) => !wellFormed(p)).length;
      expect(malformed).toBe(payloads.length);
      // A good face in the same batch window as every group of malformed ones.
      let good = 0;
      payloads.forEach((payload, i) => {
        bus.publish(subject('faces', deploymentId, CAMERA), payload);
        if (i % 60 === 0) {
          bus.publish(subject('faces', deploymentId, CAMERA), goodFace());
          good++;
        }
      });
      await idle(worker.subscription, bus);
      await counterReaches(
        metrics,
        'vigil_queue_dropped_total',
        {
          stage: 'faces',
          reason: 'decode_error',
        },
        malformed,
      );
      await waitFor(() => embeddings.length === good, 30_000);
      for (const e of embeddings) expect(decodeEmbedding(e).vector.length).toBeGreaterThan(100);
    } finally {
      out.unsubscribe();
      await worker.stop();
    }
  });

  it(`matcher: undecodable embeddings counted as dropped, mutated ones never stop it, a real one still searched (seed ${FUZZ_SEED})`, async () => {
    const metrics = createMetrics({ role: 'matcher', processMetrics: false });
    const service = new MatcherService(
      {
        snapshots: new SnapshotRepository(db),
        alerts: new MatchedAlertRepository(db),
        counters: new DeploymentCounters(db, logger, 50),
        cipher: new DataCipher(Buffer.alloc(32, 9)),
        encodeProbe: encodeProbeJpeg,
        logger,
        metrics,
      },
      { hnswMinSize: 1_000_000, cooldownSeconds: 30 },
    );
    const worker = startMatcherWorker({
      bus,
      service,
      logger,
      metrics,
      subject: `vigil.v1.${deploymentId}.embeddings.*`,
    });
    try {
      const random = new FuzzRandom(FUZZ_SEED + 12);
      const valid = encodeEmbedding({
        frame: { deploymentId, cameraId: CAMERA, sequence: 1, capturedAtMs: Date.now() },
        trackId: 't',
        modelId: 'm',
        vector: [0.6, 0.8],
      });
      const payloads = hostilePayloads(random, valid, 300);
      const undecodable = payloads.filter((p) => !decodes(decodeEmbedding, p)).length;
      for (const payload of payloads) bus.publish(subject('embeddings', deploymentId, CAMERA), payload);
      await idle(worker.subscription, bus);
      await counterReaches(
        metrics,
        'vigil_queue_dropped_total',
        {
          stage: 'embeddings',
          reason: 'decode_error',
        },
        undecodable,
      );
      // Still alive: a well-formed embedding for a deployment that is not running is searched and refused.
      const before = await counterValue(metrics, 'vigil_frames_dropped_total', {
        deployment: deploymentId,
        reason: 'not_running',
      });
      bus.publish(subject('embeddings', deploymentId, CAMERA), valid);
      await waitFor(
        async () =>
          (await counterValue(metrics, 'vigil_frames_dropped_total', {
            deployment: deploymentId,
            reason: 'not_running',
          })) > before,
        30_000,
      );
      expect(undecodable).toBeGreaterThan(100);
      expect((await db.query('SELECT count(*)::int AS n FROM alerts')).rows[0]).toEqual({ n: 0 });
    } finally {
      await worker.stop();
    }
  });

  it(`camera status: malformed status messages never stop the API's tracker (seed ${FUZZ_SEED})`, async () => {
    const tracker = new CameraStatusTracker(bus).start();
    try {
      const random = new FuzzRandom(FUZZ_SEED + 13);
      const camera = randomUUID();
      const valid = encodeCameraStatus({
        deploymentId,
        cameraId: camera,
        state: CameraState.ONLINE,
        fps: 9.5,
        reportedAtMs: Date.now(),
      });
      for (const payload of hostilePayloads(random, SUBJECTS.status.sample(), 1000))
        bus.publish(subject('status', deploymentId, CAMERA), payload);
      bus.publish(subject('status', deploymentId, camera), valid);
      await bus.flush();
      await waitFor(() => tracker.get(camera)?.status === 'online', 30_000);
    } finally {
      tracker.stop();
    }
  });
});
