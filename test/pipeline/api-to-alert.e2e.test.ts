import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, loadConfig } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase, waitFor } from '@vigil/core/testing';
import { type System, startSystem } from '@vigil/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseDeployment, createAuthoriser } from '../../services/api/test/authorisation.fixture.js';
import { apiCaller, E2E_THRESHOLD, enrolmentForm, loginToken, stillVideo } from './pipeline.fixtures.js';

const PASSWORD = 'e2e-admin-password-1';

let dir: string;
let testDb: TestDatabase | undefined;
let system: System;
let token: string;

const api = apiCaller(
  () => `${system.url}`,
  () => token,
);

describe(`the whole system: enrol and deploy through the API, alert from the camera (${backendName})`, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-system-'));
    if (process.env.DATABASE_URL) testDb = await createTestDatabase();
    const config = loadConfig({
      PORT: '0',
      VIGIL_DATA_DIR: path.join(dir, 'data'),
      VIGIL_DATA_KEY: randomBytes(32).toString('base64'),
      VIGIL_ADMIN_PASSWORD: PASSWORD,
      ...(testDb?.url ? { DATABASE_URL: testDb.url } : {}),
      ...(process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
    });
    system = await startSystem({ config, roles: ['all'], logger: createLogger({ level: 'silent' }) });
    await waitFor(async () => (await fetch(`${system.url}/ready`)).status === 200, 120_000, 250);
    token = await loginToken(`${system.url}`, 'admin', PASSWORD);
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    if (testDb) {
      // startSystem closed its own connection; drop the database it used.
      await testDb.drop();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('raises an alert for the enrolled subject, visible in the alert list and the camera status', async () => {
    const video = stillVideo(dir, 'sample1.mp4', 4);

    const watchlist = await api('POST', '/watchlists', { name: 'E2E list', description: 'pipeline' });
    expect(watchlist.status).toBe(201);
    const form = enrolmentForm(dir);
    const enrolled = await api('POST', `/watchlists/${watchlist.json.id}/subjects`, form);
    expect(enrolled.status).toBe(201);

    const deployment = await api('POST', '/deployments', {
      name: 'E2E',
      location: 'test',
      threshold: E2E_THRESHOLD,
      watchlistIds: [watchlist.json.id],
    });
    expect(deployment.status).toBe(201);
    const id = deployment.json.id as string;
    const camera = await api('POST', `/deployments/${id}/cameras`, {
      name: 'door',
      url: video,
      fps: 2,
      loop: false,
    });
    expect(camera.status).toBe(201);
    const authoriser = await createAuthoriser(api, (t) =>
      apiCaller(
        () => `${system.url}`,
        () => t,
      ),
    );
    await authoriseDeployment(api, authoriser, id);
    expect((await api('POST', `/deployments/${id}/start`)).status).toBe(200);

    const alerts = await waitFor(
      async () => {
        const list = await api('GET', `/deployments/${id}/alerts`);
        return list.json?.alerts?.length > 0 ? list.json.alerts : undefined;
      },
      60_000,
      250,
    );
    expect(alerts.every((a: { subjectId: string }) => a.subjectId === enrolled.json.id)).toBe(true);
    expect(alerts[0].cameraId).toBe(camera.json.id);

    const status = await api('GET', `/deployments/${id}/status`);
    expect(status.status).toBe(200);
    expect(status.json.cameras.map((c: { id: string }) => c.id)).toEqual([camera.json.id]);
    expect(['online', 'offline']).toContain(status.json.cameras[0].status);
    expect((await api('POST', `/deployments/${id}/stop`)).status).toBe(200);
  });
});
