import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, createMetrics, deploymentSubjects, subject } from '@vigil/core';
import { backendName, createTestBus, waitFor } from '@vigil/core/testing';
import { startDetectorWorker } from '@vigil/detector';
import { engineAnalyser, FaceEngine, type FrameAnalyser, LIVE_GATE } from '@vigil/face-runtime';
import { decodeFace, encodeFrame } from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLES } from './pipeline.fixtures.js';

let engine: FaceEngine;

describe(`detector under load works on each camera's newest frame (${backendName})`, () => {
  beforeAll(async () => {
    engine = await FaceEngine.load({ profile: 'default' });
  }, 120_000);
  afterAll(async () => {
    await engine.dispose();
  });

  it('replaces frames that waited behind a slow detection by the newest one, and counts them', async () => {
    const bus = await createTestBus('detector-newest');
    const metrics = createMetrics({ role: 'detector', processMetrics: false });
    const deploymentId = randomUUID();
    const cameraId = randomUUID();
    const real = engineAnalyser(engine);
    let analysed = 0;
    const analyser: FrameAnalyser = {
      cropSize: real.cropSize,
      analyse: (jpeg) => {
        analysed++;
        return real.analyse(jpeg);
      },
    };
    const worker = startDetectorWorker({
      bus,
      analyser,
      logger: createLogger({ level: 'silent' }),
      gate: LIVE_GATE,
      metrics,
      subject: deploymentSubjects('frames', deploymentId),
    });
    const sequences: number[] = [];
    const sub = bus.subscribe(deploymentSubjects('faces', deploymentId), (m) => {
      sequences.push(decodeFace(m.data).frame?.sequence ?? 0);
    });
    try {
      if (bus.kind === 'nats') await bus.flush();
      const empty = await sharp({ create: { width: 960, height: 540, channels: 3, background: '#000' } })
        .jpeg()
        .toBuffer();
      const people = await sharp(fs.readFileSync(path.join(SAMPLES, 'sample1.jpg')))
        .resize(960)
        .jpeg()
        .toBuffer();
      // Ten frames at once: nine empty ones, then the newest with three people in it.
      for (let sequence = 1; sequence <= 10; sequence++) {
        bus.publish(
          subject('frames', deploymentId, cameraId),
          encodeFrame({
            deploymentId,
            cameraId,
            sequence,
            capturedAtMs: Date.now(),
            jpeg: sequence === 10 ? people : empty,
          }),
        );
      }
      await waitFor(() => sequences.length >= 3, 30_000);
      await worker.stop();
      expect(new Set(sequences)).toEqual(new Set([10]));
      expect(analysed).toBeLessThan(10);
      const dropped = await metrics.registry.getSingleMetricAsString('vigil_frames_dropped_total');
      const count = Number(/reason="stale"[^}]*\} (\d+)/.exec(dropped)?.[1] ?? 0);
      expect(count).toBe(10 - analysed);
    } finally {
      sub.unsubscribe();
      await bus.close();
    }
  });
});
