import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { createLogger, loadConfig, type NatsBus } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase, waitFor } from '@vigil/core/testing';
import { CameraStatusTracker } from '@vigil/ingest';
import { type System, startSystem } from '@vigil/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment } from '../../services/api/test/realtime-fixtures.js';

/**
 * Issue #22 end to end through `vigil serve --role ingest` (startSystem): VIGIL_CAMERA_NETWORKS keeps
 * ingest from connecting to a camera elsewhere (item 6), and VIGIL_ALERT_RETENTION_DAYS sets the alert
 * stream's age (item 8).
 */
describe(`issue #22 settings reach the roles (${backendName})`, () => {
  let dir: string;
  let testDb: TestDatabase | undefined;
  let system: System;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-camera-settings-'));
    testDb = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    const config = loadConfig({
      VIGIL_DATA_DIR: dir,
      LOG_LEVEL: 'silent',
      VIGIL_CAMERA_NETWORKS: '10.0.0.0/8',
      VIGIL_ALERT_RETENTION_DAYS: '9',
      ...(testDb?.url ? { DATABASE_URL: testDb.url } : {}),
      ...(process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
    });
    system = await startSystem({ config, roles: ['ingest'], logger: createLogger({ level: 'silent' }) });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await testDb?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reports network_not_allowed for a running camera off the allowed networks', async () => {
    const tracker = new CameraStatusTracker(system.bus).start();
    try {
      const deployment = await createDeployment(system.db, 'Camera elsewhere');
      await system.db.query('UPDATE cameras SET url = $1 WHERE id = $2', [
        'rtsp://127.0.0.1:8554/stream',
        deployment.cameraId,
      ]);
      const status = await waitFor(() => {
        const view = tracker.get(deployment.cameraId);
        return view?.lastErrorCode ? view : undefined;
      }, 30_000);
      expect(status?.lastErrorCode).toBe('network_not_allowed');
    } finally {
      tracker.stop();
    }
  });

  it.skipIf(!process.env.NATS_URL)('keeps the alert stream for VIGIL_ALERT_RETENTION_DAYS', async () => {
    // The stream is set up on the bus's first use of it.
    await system.bus.durable.erase(() => false);
    const jsm = await jetstreamManager((system.bus as NatsBus).connection);
    expect((await jsm.streams.info('VIGIL_ALERTS')).config.max_age).toBe(nanos(9 * 86_400_000));
  });
});
