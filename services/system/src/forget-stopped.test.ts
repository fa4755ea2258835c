import { randomUUID } from 'node:crypto';
import { createMetrics } from '@vigil/core';
import { createTestBus, waitFor } from '@vigil/core/testing';
import { notifyDeploymentChanged } from '@vigil/ingest';
import { describe, expect, it } from 'vitest';
import { forgetStoppedDeployments } from './forget-stopped.js';

// Regression (issue #26): a split detector or embedder kept a stopped deployment's series until restart.
describe('forgetStoppedDeployments', () => {
  it("drops a stopped deployment's series after the grace, and only on a stop notice", async () => {
    const bus = await createTestBus('forget-stopped');
    const metrics = createMetrics({ role: 'detector', processMetrics: false });
    const stopped = randomUUID();
    const running = randomUUID();
    for (const deployment of [stopped, running])
      metrics.facesProcessed.inc({ deployment, camera: randomUUID() }, 3);
    const stopForgetting = forgetStoppedDeployments(bus, metrics, 50);
    try {
      notifyDeploymentChanged(bus, running, 'cameras');
      notifyDeploymentChanged(bus, stopped, 'stopped');
      await waitFor(async () => !(await metrics.text()).includes(stopped), 10_000);
      expect(await metrics.text()).toContain(running);
    } finally {
      stopForgetting();
      await bus.close();
    }
  });
});
