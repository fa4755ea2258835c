import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, subject } from '@vigil/core';
import { backendName, createTestBus, waitFor } from '@vigil/core/testing';
import { startEmbedderWorker } from '@vigil/embedder';
import { type CropEmbedder, FaceEngine } from '@vigil/face-runtime';
import { decodeEmbedding, encodeFace } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/@vladmandic/face-api/demo/sample5.jpg',
);
let engine: FaceEngine;

describe(`embedder worker (${backendName})`, () => {
  beforeAll(async () => {
    engine = await FaceEngine.load({ profile: 'default' });
  }, 120_000);
  afterAll(async () => {
    await engine.dispose();
  });

  it('embeds the faces of one frame in one batched call, each as the engine embeds it alone', async () => {
    const analysis = await engine.detect(fs.readFileSync(SAMPLE));
    expect(analysis.faces.length).toBeGreaterThanOrEqual(4);
    const crops = analysis.faces.map((f) => Uint8Array.from(f.crop));
    const alone = await Promise.all(
      crops.map(async (crop) => (await engine.embed([crop]))[0] as Float32Array),
    );
    const calls: number[] = [];
    const embedder: CropEmbedder = {
      modelId: engine.profile.modelId,
      embed: (batch) => {
        calls.push(batch.length);
        return engine.embed(batch);
      },
    };
    const bus = await createTestBus('embedder-worker');
    const deploymentId = crypto.randomUUID();
    const cameraId = crypto.randomUUID();
    const out = new Map<string, Float32Array>();
    const sub = bus.subscribe(subject('embeddings', deploymentId, cameraId), (m) => {
      const e = decodeEmbedding(m.data);
      out.set(e.trackId, Float32Array.from(e.vector));
      expect(e.modelId).toBe(engine.profile.modelId);
      expect(e.frame?.sequence).toBe(7);
    });
    const worker = startEmbedderWorker({
      bus,
      embedder,
      logger: createLogger({ level: 'silent' }),
      subject: subject('faces', deploymentId, cameraId),
      batchWaitMs: 50,
    });
    try {
      if (bus.kind === 'nats') await bus.flush();
      crops.forEach((crop, i) => {
        bus.publish(
          subject('faces', deploymentId, cameraId),
          encodeFace({
            frame: { deploymentId, cameraId, sequence: 7, capturedAtMs: Date.now() },
            trackId: `track-${i}`,
            crop,
            cropWidth: engine.cropSize[0],
            cropHeight: engine.cropSize[1],
          }),
        );
      });
      await waitFor(() => out.size === crops.length, 20_000);
      expect(calls).toEqual([crops.length]);
      alone.forEach((vector, i) => {
        expect(engine.similarity(out.get(`track-${i}`) as Float32Array, vector)).toBeGreaterThan(0.9999);
      });
    } finally {
      await worker.stop();
      sub.unsubscribe();
      await bus.close();
    }
  });
});
