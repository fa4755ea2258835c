import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  type Bus,
  createLogger,
  createMetrics,
  deploymentSubjects,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import { backendName, createTestBus, waitFor } from '@vigil/core/testing';
import { startDetectorWorker } from '@vigil/detector';
import { startEmbedderWorker } from '@vigil/embedder';
import {
  type CropEmbedder,
  engineAnalyser,
  engineEmbedder,
  FaceEngine,
  type FrameAnalyser,
  InferenceThread,
  LIVE_GATE,
} from '@vigil/face-runtime';
import { encodeFrame } from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLES } from './pipeline.fixtures.js';

const logger = createLogger({ level: 'silent' });
let people: Buffer;

/** `vigil_model_inference_seconds_count` and `_sum` of one stage, from the registry's text. */
async function modelSeconds(metrics: VigilMetrics, stage: string): Promise<{ count: number; sum: number }> {
  const text = await metrics.text();
  const read = (suffix: string) =>
    Number(
      new RegExp(
        `^vigil_model_inference_seconds_${suffix}\\{[^}]*stage="${stage}"[^}]*\\} (\\S+)$`,
        'm',
      ).exec(text)?.[1] ?? 0,
    );
  return { count: read('count'), sum: read('sum') };
}

/** Both stages have observations with time in them: one per frame (three) for detect, one or more batches for embed. */
async function expectBothStages(metrics: VigilMetrics) {
  const detect = await modelSeconds(metrics, 'detect');
  const embed = await modelSeconds(metrics, 'embed');
  expect(detect.count).toBeGreaterThanOrEqual(3);
  expect(detect.sum).toBeGreaterThan(0);
  expect(embed.count).toBeGreaterThan(0);
  expect(embed.sum).toBeGreaterThan(0);
  return { detect, embed };
}

/** Runs frames with faces through a detector and an embedder worker; resolves once embeddings came out. */
async function runFrames(bus: Bus, metrics: VigilMetrics, analyser: FrameAnalyser, embedder: CropEmbedder) {
  const deploymentId = randomUUID();
  const cameraId = randomUUID();
  const detector = startDetectorWorker({
    bus,
    analyser,
    logger,
    gate: LIVE_GATE,
    metrics,
    subject: deploymentSubjects('frames', deploymentId),
  });
  const embedderWorker = startEmbedderWorker({
    bus,
    embedder,
    logger,
    metrics,
    subject: deploymentSubjects('faces', deploymentId),
  });
  let embeddings = 0;
  const sub = bus.subscribe(deploymentSubjects('embeddings', deploymentId), () => {
    embeddings++;
  });
  try {
    if (bus.kind === 'nats') await bus.flush();
    for (let sequence = 1; sequence <= 3; sequence++) {
      bus.publish(
        subject('frames', deploymentId, cameraId),
        encodeFrame({ deploymentId, cameraId, sequence, capturedAtMs: Date.now(), jpeg: people }),
      );
      await waitFor(async () => (await modelSeconds(metrics, 'detect')).count >= sequence, 30_000);
    }
    await waitFor(() => embeddings > 0, 30_000);
  } finally {
    await detector.stop();
    await embedderWorker.stop();
    sub.unsubscribe();
  }
}

// Regression (issue #26): vigil_model_inference_seconds was declared but never recorded.
describe(`model inference seconds reach /metrics for detect and embed (${backendName})`, () => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await createTestBus('model-inference-metrics');
    people = await sharp(fs.readFileSync(path.join(SAMPLES, 'sample1.jpg')))
      .resize(960)
      .jpeg()
      .toBuffer();
  });
  afterAll(async () => {
    await bus.close();
  });

  it('records the model seconds of a face runtime in this thread (separate detector and embedder processes)', async () => {
    const engine = await FaceEngine.load({ profile: 'default' });
    const metrics = createMetrics({ role: 'all', processMetrics: false });
    const stageBefore = Date.now();
    try {
      await runFrames(bus, metrics, engineAnalyser(engine), engineEmbedder(engine));
    } finally {
      await engine.dispose();
    }
    const { detect } = await expectBothStages(metrics);
    // Only onnxruntime's share of a frame: less than the whole detect stage (decode, align, track).
    const stage = (await metrics.text()).match(
      /^vigil_stage_duration_seconds_sum\{[^}]*stage="detect"[^}]*\} (\S+)$/m,
    );
    expect(detect.sum).toBeLessThan(Number(stage?.[1]));
    expect(detect.sum).toBeLessThan((Date.now() - stageBefore) / 1000);
  });

  it('records the model seconds of the inference thread (the all-in-one process)', async () => {
    const thread = await InferenceThread.start({ profile: 'default' }, logger);
    const metrics = createMetrics({ role: 'all', processMetrics: false });
    try {
      await runFrames(bus, metrics, thread, thread);
    } finally {
      await thread.close();
    }
    await expectBothStages(metrics);
  });
});
