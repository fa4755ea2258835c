import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger, createMetrics, subject } from '@vigil/core';
import { backendName, createTestBus, waitFor } from '@vigil/core/testing';
import { CameraState, decodeCameraStatus, decodeFrame } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraStatusTracker } from '../src/camera-status.tracker.js';
import { CameraSupervisor } from '../src/camera-supervisor.service.js';
import { makeTestVideo } from '../src/testing.js';

const logger = createLogger({ level: 'silent' });
const fastRetry = { backoff: { initialMs: 200, maxMs: 1000, factor: 2 }, statusIntervalMs: 250 };
let dir: string;
let video: string;
let bus: Bus;

function id(): string {
  return crypto.randomUUID();
}

describe(`camera supervisor on real ffmpeg (${backendName})`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ingest-'));
    video = path.join(dir, 'pattern.mp4');
    makeTestVideo(video, { size: '320x240', fps: 10, seconds: 4 });
    bus = await createTestBus('ingest-test');
  });

  afterAll(async () => {
    await bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes JPEG frames of a looped file camera and reports it online with its fps', async () => {
    const camera = { id: id(), deploymentId: id(), url: video, fps: 5, realtime: true, loop: true };
    const frames: { sequence: number; jpeg: Uint8Array }[] = [];
    const sub = bus.subscribe(subject('frames', camera.deploymentId, camera.id), (m) => {
      const f = decodeFrame(m.data);
      frames.push({ sequence: f.sequence, jpeg: f.jpeg });
    });
    const tracker = new CameraStatusTracker(bus).start();
    const supervisor = new CameraSupervisor(camera, bus, logger, fastRetry);
    supervisor.start();
    try {
      await waitFor(() => frames.length >= 8, 15_000);
      expect(frames.every((f) => f.jpeg[0] === 0xff && f.jpeg[1] === 0xd8)).toBe(true);
      expect(frames.map((f) => f.sequence)).toEqual(frames.map((_, i) => i + 1));
      const view = await waitFor(() => {
        const v = tracker.get(camera.id);
        return v?.status === 'online' && v.fps > 0 ? v : undefined;
      });
      expect(view?.fps).toBeGreaterThan(0);
      expect(tracker.forDeployment(camera.deploymentId).map((v) => v.cameraId)).toEqual([camera.id]);
    } finally {
      await supervisor.stop();
      sub.unsubscribe();
    }
    const stopped = await waitFor(() => (tracker.get(camera.id)?.status === 'stopped' ? true : undefined));
    expect(stopped).toBe(true);
    tracker.stop();
  });

  it('comes back by itself when ffmpeg is killed mid-stream: online again, restart counted', async () => {
    const camera = { id: id(), deploymentId: id(), url: video, fps: 5, realtime: true, loop: true };
    let frames = 0;
    const sub = bus.subscribe(subject('frames', camera.deploymentId, camera.id), () => {
      frames++;
    });
    const metrics = createMetrics({ role: 'ingest', processMetrics: false });
    const supervisor = new CameraSupervisor(camera, bus, logger, { ...fastRetry, metrics });
    supervisor.start();
    try {
      await waitFor(() => frames >= 3, 15_000);
      const first = supervisor.pid;
      expect(first).toBeTypeOf('number');
      process.kill(first as number, 'SIGKILL');
      await waitFor(() => supervisor.status.restarts >= 1, 15_000);
      const before = frames;
      await waitFor(() => supervisor.status.state === CameraState.ONLINE && frames >= before + 3, 15_000);
      expect(supervisor.pid).not.toBe(first);
      expect(supervisor.status.restarts).toBe(1);
      const restarts = await metrics.registry.getSingleMetricAsString('vigil_camera_restarts_total');
      expect(restarts).toContain(`camera="${camera.id}"`);
      expect(restarts).toContain('reason="ffmpeg_exit"');
      const framesIn = await metrics.registry.getSingleMetricAsString('vigil_frames_in_total');
      expect(framesIn).toContain(`deployment="${camera.deploymentId}"`);
    } finally {
      await supervisor.stop();
      sub.unsubscribe();
    }
  });

  it('reports a dead RTSP camera offline and keeps retrying while another camera keeps working', async () => {
    const deploymentId = id();
    const dead = {
      id: id(),
      deploymentId,
      url: 'rtsp://127.0.0.1:1/none',
      fps: 5,
      realtime: true,
      loop: false,
    };
    const live = { id: id(), deploymentId, url: video, fps: 5, realtime: true, loop: true };
    const statuses: { state: CameraState; restarts: number; code: string }[] = [];
    const statusSub = bus.subscribe(subject('status', deploymentId, dead.id), (m) => {
      const s = decodeCameraStatus(m.data);
      statuses.push({ state: s.state, restarts: s.restarts, code: s.lastErrorCode });
    });
    let liveFrames = 0;
    const frameSub = bus.subscribe(subject('frames', deploymentId, live.id), () => {
      liveFrames++;
    });
    const deadCamera = new CameraSupervisor(dead, bus, logger, fastRetry);
    const liveCamera = new CameraSupervisor(live, bus, logger, fastRetry);
    deadCamera.start();
    liveCamera.start();
    try {
      await waitFor(() => deadCamera.status.restarts >= 2, 20_000);
      await waitFor(() => liveFrames >= 10, 20_000);
      expect(deadCamera.status.state).not.toBe(CameraState.ONLINE);
      expect(deadCamera.status.framesTotal).toBe(0);
      expect(statuses.some((s) => s.state === CameraState.OFFLINE && s.code === 'connection_refused')).toBe(
        true,
      );
      expect(statuses.some((s) => s.state === CameraState.ONLINE)).toBe(false);
      expect(liveCamera.status.state).toBe(CameraState.ONLINE);
      expect(liveCamera.status.restarts).toBe(0);
    } finally {
      await Promise.all([deadCamera.stop(), liveCamera.stop()]);
      statusSub.unsubscribe();
      frameSub.unsubscribe();
    }
  });

  it('plays a file without loop once and then reports it ended, without restarting', async () => {
    const camera = { id: id(), deploymentId: id(), url: video, fps: 10, realtime: false, loop: false };
    let frames = 0;
    const sub = bus.subscribe(
      subject('frames', camera.deploymentId, camera.id),
      () => {
        frames++;
      },
      { maxPending: 1000 },
    );
    const supervisor = new CameraSupervisor(camera, bus, logger, { ...fastRetry, queueLimit: 100 });
    supervisor.start();
    try {
      await waitFor(() => supervisor.status.lastErrorCode === 'stream_ended', 15_000);
      await bus.flush();
      await waitFor(() => frames >= 40, 5000);
      expect(supervisor.status.framesTotal).toBe(40);
      expect(supervisor.status.restarts).toBe(0);
      expect(supervisor.status.state).toBe(CameraState.OFFLINE);
    } finally {
      await supervisor.stop();
      sub.unsubscribe();
    }
  });
});
