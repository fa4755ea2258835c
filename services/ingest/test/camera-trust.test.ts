import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger, subject } from '@vigil/core';
import { backendName, createTestBus, selfSignedCertificate, waitFor } from '@vigil/core/testing';
import { CameraState } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraNetworks } from '../src/camera-network.js';
import { CameraSupervisor, type SupervisorOptions } from '../src/camera-supervisor.service.js';
import { makeTestVideo } from '../src/testing.js';

const logger = createLogger({ level: 'silent' });
const fastRetry = { backoff: { initialMs: 200, maxMs: 1000, factor: 2 }, statusIntervalMs: 250 };

/** Issue #22 item 6: cameras are untrusted network peers. Real ffmpeg, a real HTTPS camera. */
describe(`cameras as untrusted peers (${backendName})`, () => {
  let dir: string;
  let bus: Bus;
  let server: https.Server;
  let port = 0;
  let ca: string;
  /** Paths the HTTPS camera was asked for. */
  const requests: string[] = [];
  const supervisors: CameraSupervisor[] = [];

  const start = (url: string, options: SupervisorOptions = {}) => {
    const camera = {
      id: crypto.randomUUID(),
      deploymentId: crypto.randomUUID(),
      url,
      fps: 5,
      realtime: true,
      loop: false,
    };
    const supervisor = new CameraSupervisor(camera, bus, logger, { ...fastRetry, ...options });
    let frames = 0;
    bus.subscribe(subject('frames', camera.deploymentId, camera.id), () => {
      frames++;
    });
    supervisors.push(supervisor);
    supervisor.start();
    return { supervisor, frames: () => frames };
  };
  const reasonOf = (supervisor: CameraSupervisor) =>
    waitFor(() => supervisor.status.lastErrorCode || undefined, 20_000);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-camera-trust-'));
    const certificate = selfSignedCertificate(dir);
    ca = certificate.cert;
    const video = path.join(dir, 'clip.mp4');
    makeTestVideo(video, { size: '160x120', fps: 5, seconds: 4 });
    const mjpeg = path.join(dir, 'clip.mjpeg');
    const encoded = spawnSync('ffmpeg', [
      '-loglevel',
      'error',
      '-i',
      video,
      '-c:v',
      'mjpeg',
      '-f',
      'mjpeg',
      mjpeg,
      '-y',
    ]);
    expect(encoded.status).toBe(0);
    const clip = fs.readFileSync(mjpeg);
    server = https.createServer(
      { key: fs.readFileSync(certificate.key), cert: fs.readFileSync(ca) },
      (request, response) => {
        requests.push(request.url ?? '');
        if (request.url === '/redirect') {
          response.writeHead(302, { location: `https://localhost:${port}/clip.mjpeg` });
          response.end();
          return;
        }
        response.writeHead(200, { 'content-type': 'video/x-motion-jpeg' });
        response.end(clip);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    bus = await createTestBus('camera-trust-test');
  });

  afterAll(async () => {
    for (const supervisor of supervisors) await supervisor.stop();
    await bus.close();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an https camera whose certificate it cannot verify, and reads it with the CA file', async () => {
    const untrusted = start(`https://localhost:${port}/clip.mjpeg`);
    expect(await reasonOf(untrusted.supervisor)).toBe('tls_verify_failed');
    expect(untrusted.frames()).toBe(0);
    await untrusted.supervisor.stop();

    const trusted = start(`https://localhost:${port}/clip.mjpeg`, { cameraCaFile: ca });
    await waitFor(() => trusted.frames() >= 3, 20_000);
    expect(trusted.supervisor.status.framesTotal).toBeGreaterThanOrEqual(3);
    await trusted.supervisor.stop();
  });

  it('never connects to a camera off the allowed networks', async () => {
    const before = requests.length;
    const refused = start(`https://127.0.0.1:${port}/clip.mjpeg`, {
      cameraCaFile: ca,
      cameraNetworks: new CameraNetworks(['10.0.0.0/8']),
    });
    expect(await reasonOf(refused.supervisor)).toBe('network_not_allowed');
    expect(refused.supervisor.status.state).toBe(CameraState.OFFLINE);
    expect(refused.supervisor.pid).toBeUndefined();
    expect(requests.length).toBe(before);
    await refused.supervisor.stop();
  });

  it('follows no redirect once camera networks are restricted', async () => {
    const before = requests.length;
    const redirected = start(`https://localhost:${port}/redirect`, {
      cameraCaFile: ca,
      cameraNetworks: new CameraNetworks(['127.0.0.0/8', '::1']),
    });
    await waitFor(() => redirected.supervisor.status.restarts >= 1, 20_000);
    const asked = requests.slice(before);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((url) => url === '/redirect')).toBe(true);
    expect(redirected.frames()).toBe(0);
  });

  it('says why a camera cannot work: a missing file, a refused connection', async () => {
    const missing = start(path.join(dir, 'no-such-recording.mp4'));
    expect(await reasonOf(missing.supervisor)).toBe('file_not_found');
    expect(missing.supervisor.pid).toBeUndefined();
    const refused = start('rtsp://127.0.0.1:1/stream');
    expect(await reasonOf(refused.supervisor)).toBe('connection_refused');
  });
});
