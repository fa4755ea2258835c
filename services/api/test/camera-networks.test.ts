import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from './test-app.js';

/** Issue #22 item 6: an admin restricts camera addresses to configured networks. */
describe(`camera networks (${backendName})`, () => {
  let t: TestApp;
  let deploymentId: string;
  const addCamera = (url: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deploymentId}/cameras`,
      headers: bearer(t.tokens.admin),
      payload: { name: 'Gate', url },
    });

  beforeAll(async () => {
    t = await createTestApp({ env: { VIGIL_CAMERA_NETWORKS: '10.20.0.0/16,fd00:20::/32' } });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/deployments',
      headers: bearer(t.tokens.admin),
      payload: { name: 'Networks', threshold: 0.6, watchlistIds: [] },
    });
    deploymentId = created.json().id;
  });
  afterAll(async () => t?.close());

  it('accepts cameras on the allowed networks and files on the ingest host', async () => {
    for (const url of [
      'rtsp://10.20.3.4:554/stream',
      'rtsps://[fd00:20::7]/live',
      '/var/lib/vigil/recording.mp4',
    ])
      expect((await addCamera(url)).statusCode, url).toBe(201);
  });

  it('refuses a camera elsewhere with 400 camera_network_not_allowed, by address or by what a name resolves to', async () => {
    for (const url of [
      'rtsp://10.21.0.1/stream',
      'http://169.254.169.254/latest/meta-data',
      'https://localhost:8443/x',
    ]) {
      const response = await addCamera(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code, url).toBe('camera_network_not_allowed');
    }
  });
});
