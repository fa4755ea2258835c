import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger, deploymentSubjects } from '@vigil/core';
import { backendName, createTestBus, waitFor } from '@vigil/core/testing';
import { startDetectorWorker, type Worker } from '@vigil/detector';
import { type FrameAnalyser, InferenceThread, LIVE_GATE } from '@vigil/face-runtime';
import { CameraSupervisor } from '@vigil/ingest';
import { decodeFace } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stillVideo } from './pipeline.fixtures.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
let video: string;
const buses: Bus[] = [];
const threads: InferenceThread[] = [];

/** Counts the frames a real analyser handled, to see which detector took which frame. */
function counted(analyser: FrameAnalyser) {
  const seen = { frames: 0 };
  const wrapped: FrameAnalyser = {
    cropSize: analyser.cropSize,
    analyse: async (jpeg) => {
      seen.frames++;
      return analyser.analyse(jpeg);
    },
  };
  return { seen, wrapped };
}

describe(`detectors sharing a queue group (${backendName})`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-failover-'));
    video = stillVideo(dir, 'group.mp4', 3);
    // Two connections on NATS: two detector processes as the server sees them.
    buses.push(await createTestBus('detector-a'));
    buses.push(process.env.NATS_URL ? await createTestBus('detector-b') : (buses[0] as Bus));
    threads.push(
      ...(await Promise.all([0, 1].map(() => InferenceThread.start({ profile: 'default' }, logger)))),
    );
  }, 120_000);

  afterAll(async () => {
    for (const thread of threads) await thread.close();
    for (const bus of new Set(buses)) await bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('splits frames between two detectors, and the other carries on when one stops mid-stream', async () => {
    const [busA, busB] = buses as [Bus, Bus];
    const deploymentId = randomUUID();
    const a = counted(threads[0] as InferenceThread);
    const b = counted(threads[1] as InferenceThread);
    const workers: Worker[] = [
      startDetectorWorker({
        bus: busA,
        analyser: a.wrapped,
        logger,
        gate: LIVE_GATE,
        subject: deploymentSubjects('frames', deploymentId),
      }),
      startDetectorWorker({
        bus: busB,
        analyser: b.wrapped,
        logger,
        gate: LIVE_GATE,
        subject: deploymentSubjects('frames', deploymentId),
      }),
    ];
    const faces: { trackId: string; cropBytes: number }[] = [];
    const faceSub = busA.subscribe(deploymentSubjects('faces', deploymentId), (m) => {
      const face = decodeFace(m.data);
      faces.push({ trackId: face.trackId, cropBytes: face.crop.length });
    });
    if (busA.kind === 'nats') await busA.flush();
    const camera = new CameraSupervisor(
      { id: randomUUID(), deploymentId, url: video, fps: 2, realtime: true, loop: true },
      busA,
      logger,
    );
    camera.start();
    try {
      await waitFor(() => a.seen.frames >= 1 && b.seen.frames >= 1, 30_000);
      await workers[0]?.stop();
      const stoppedAt = { a: a.seen.frames, b: b.seen.frames };
      await waitFor(() => b.seen.frames >= stoppedAt.b + 3, 30_000);
      expect(a.seen.frames).toBe(stoppedAt.a);
      // Faces of sample1 (three women) were found and sent on with their aligned crops.
      expect(faces.length).toBeGreaterThanOrEqual(3);
      const [w, h] = (threads[0] as InferenceThread).cropSize;
      expect(faces.every((f) => f.cropBytes === w * h * 3)).toBe(true);
    } finally {
      await camera.stop();
      await workers[1]?.stop();
      faceSub.unsubscribe();
    }
  });
});
