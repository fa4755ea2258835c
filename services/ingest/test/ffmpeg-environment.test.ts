import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger } from '@vigil/core';
import { backendName, createTestBus, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraSupervisor } from '../src/camera-supervisor.service.js';
import { makeTestVideo } from '../src/testing.js';

/** What a `--role all` process holds in its environment; ffmpeg must inherit none of it. */
const SECRETS = {
  DATABASE_URL: 'postgres://vigil_app:db-secret-5f2a@db.internal:5432/vigil',
  NATS_PASSWORD: 'nats-secret-91c4',
  VIGIL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
  VIGIL_ADMIN_PASSWORD: 'admin-secret-password-77',
  VIGIL_METRICS_TOKEN: 'metrics-secret-token-0001',
};

/** Issue #22 item 2: ffmpeg parses hostile streams, so it runs with a minimal environment. */
describe(`ffmpeg's environment (${backendName})`, () => {
  let dir: string;
  let video: string;
  let bus: Bus;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ffmpeg-env-'));
    video = path.join(dir, 'pattern.mp4');
    makeTestVideo(video, { size: '160x120', fps: 5, seconds: 2 });
    bus = await createTestBus('ffmpeg-env-test');
    for (const [key, value] of Object.entries(SECRETS)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await bus.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(process.platform !== 'linux')('holds no secret in /proc/<ffmpeg pid>/environ', async () => {
    const camera = {
      id: crypto.randomUUID(),
      deploymentId: crypto.randomUUID(),
      url: video,
      fps: 2,
      realtime: true,
      loop: true,
    };
    const supervisor = new CameraSupervisor(camera, bus, createLogger({ level: 'silent' }));
    supervisor.start();
    try {
      const pid = await waitFor(() => supervisor.pid);
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      const names = environ
        .split('\0')
        .filter(Boolean)
        .map((entry) => entry.slice(0, entry.indexOf('=')));
      for (const [key, value] of Object.entries(SECRETS)) {
        expect(names).not.toContain(key);
        expect(environ).not.toContain(value);
      }
      expect(names.every((name) => ['PATH', 'LD_LIBRARY_PATH', 'TZ', 'LC_ALL'].includes(name))).toBe(true);
    } finally {
      await supervisor.stop();
    }
  });
});
