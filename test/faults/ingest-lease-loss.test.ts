import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Bus, createLogger } from '@vigil/core';
import { createTestBus, createTestDatabase, type TestDatabase, waitFor } from '@vigil/core/testing';
import {
  CameraRepository,
  IngestService,
  LEASE_HEARTBEAT_MS,
  LEASE_TTL_MS,
  REPLICA_LOCK_CLASS,
} from '@vigil/ingest';
import { makeTestVideo } from '@vigil/ingest/testing';
import { CameraState } from '@vigil/proto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * Issue 26: an ingest replica that loses its camera leases (its lease connection ended, or silent
 * past the lease TTL) stops its cameras at once, before another replica may open them, and runs
 * them again once it holds the leases again.
 */

const serverUrl = process.env.DATABASE_URL;
const logger = createLogger({ level: 'silent' });

describe('ingest stops its cameras when it loses their leases (issue 26)', () => {
  let dir: string;
  let testDb: TestDatabase;
  let bus: Bus;
  let admin: pg.Client;
  let ingest: IngestService;
  let cameraId: string;

  beforeAll(async () => {
    if (!serverUrl) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lease-loss-'));
    const video = path.join(dir, 'pattern.mp4');
    makeTestVideo(video, { size: '160x120', fps: 4, seconds: 2 });
    testDb = await createTestDatabase();
    bus = await createTestBus('ingest-lease-loss-test');
    admin = new pg.Client({ connectionString: testDb.url });
    await admin.connect();
    const { rows } = await testDb.db.query<{ id: string }>(
      `INSERT INTO deployments (name, threshold, model, status) VALUES ('lease', 0.6, 'm', 'running') RETURNING id`,
    );
    const cam = await testDb.db.query<{ id: string }>(
      `INSERT INTO cameras (deployment_id, name, url, fps, realtime, loop)
       VALUES ($1, 'a', $2, 2, true, true) RETURNING id`,
      [(rows[0] as { id: string }).id, video],
    );
    cameraId = (cam.rows[0] as { id: string }).id;
    ingest = new IngestService(new CameraRepository(testDb.db), bus, logger, {
      reconcileIntervalMs: 1000,
      statusIntervalMs: 250,
    });
    await ingest.start();
  });

  beforeEach((ctx) => {
    ctx.skip(
      !serverUrl,
      'DATABASE_URL is unset: on PGlite one process runs every camera, with no lease to lose',
    );
  });

  afterAll(async () => {
    await ingest?.stop();
    await admin?.end();
    await bus?.close();
    await testDb?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The backend pid of the replica's lease connection (it holds the replica-set lock). */
  async function leaseBackend(): Promise<number> {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [REPLICA_LOCK_CLASS],
    );
    expect(rows).toHaveLength(1);
    return (rows[0] as { pid: number }).pid;
  }

  const online = () => ingest.supervisor(cameraId)?.status.state === CameraState.ONLINE;

  it('stops the camera when its lease connection is terminated and runs it again under a new lease', async () => {
    await waitFor(online, 20_000, 50);
    const before = ingest.supervisor(cameraId);
    const backend = await leaseBackend();
    await admin.query('SELECT pg_terminate_backend($1)', [backend]);
    // Found at the next heartbeat (2 s): the camera stops, then a new lease connection takes it again.
    await waitFor(() => before?.status.state === CameraState.STOPPED, LEASE_HEARTBEAT_MS + 5000, 50);
    await waitFor(() => ingest.supervisor(cameraId) !== before && online(), 20_000, 50);
    expect(await leaseBackend()).not.toBe(backend);
  });

  it('stops the camera within the lease TTL when its lease connection stops answering', async (ctx) => {
    await waitFor(online, 20_000, 50);
    const backend = await leaseBackend();
    try {
      process.kill(backend, 'SIGSTOP');
    } catch (error) {
      ctx.skip(
        true,
        `cannot freeze the PostgreSQL backend (${(error as NodeJS.ErrnoException).code}): not local, or another user's`,
      );
    }
    const before = ingest.supervisor(cameraId);
    const frozenAt = Date.now();
    try {
      await waitFor(() => before?.status.state === CameraState.STOPPED, LEASE_TTL_MS + 6000, 50);
      // Stopped before PostgreSQL would drop the silent session (10 s) and let another replica in.
      expect(Date.now() - frozenAt).toBeLessThan(10_000);
    } finally {
      process.kill(backend, 'SIGCONT');
    }
    // The frozen session answers again, gives its locks back, and the camera runs under a new one.
    await waitFor(() => ingest.supervisor(cameraId) !== before && online(), 30_000, 50);
  });
});
