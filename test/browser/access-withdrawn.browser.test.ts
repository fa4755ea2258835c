/**
 * Issue #22 item 3 in the console: an operator watching a deployment's live feed is told at once when
 * an admin unassigns them, and receives nothing more. Headless Chromium against the whole system;
 * screenshots in `test-artifacts/browser/access-withdrawn/`.
 */
import fs from 'node:fs';
import { loadDataCipher } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignOperator, createDeployment, storeAlert } from '../../services/api/test/realtime-fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'access withdrawn admin password';
const USER_PASSWORD = 'access withdrawn operator 42';

describe.runIf(fs.existsSync(CHROMIUM))(`an operator unassigned while watching (${backendName})`, () => {
  let harness: ConsoleHarness;

  beforeAll(async () => {
    harness = await startConsoleHarness({
      artifacts: 'browser/access-withdrawn',
      adminPassword: ADMIN_PASSWORD,
    });
  }, 240_000);
  afterAll(async () => {
    await harness?.stop();
  });

  it('shows the feed refused and shows no later alert', async () => {
    const { system } = harness;
    const operator = await harness.createUser('watching-operator', USER_PASSWORD, 'operator');
    const deployment = await createDeployment(system.db, 'Withdrawn access');
    // Stopped: its made-up camera is not for the ingest to run; its alerts still flow live.
    await system.db.query("UPDATE deployments SET status = 'stopped' WHERE id = $1", [
      deployment.deploymentId,
    ]);
    await assignOperator(system.db, deployment.deploymentId, operator.id);
    const cipher = loadDataCipher({ dataKey: system.config.VIGIL_DATA_KEY, dataDir: system.config.dataDir });

    const p = await harness.page('operator');
    await harness.login(p, 'watching-operator', USER_PASSWORD);
    await p.goto(`${system.url}/#/operator?deployment=${deployment.deploymentId}`);
    await expect.poll(() => p.textContent('#connection'), { timeout: 20_000 }).toBe('live');
    const seen = await storeAlert(system.db, system.bus, cipher, deployment);
    await p.locator(`.alert-card[data-alert-id="${seen.id}"]`).waitFor();
    await harness.shots(p, '1-operator-live');

    await harness.call('DELETE', `/deployments/${deployment.deploymentId}/operators/${operator.id}`);
    await expect
      .poll(() => p.textContent('#connection'), { timeout: 20_000 })
      .toMatch(/refused: you are no longer assigned/);
    const withheld = await storeAlert(system.db, system.bus, cipher, deployment);
    await p.waitForTimeout(1500);
    expect(await p.locator(`.alert-card[data-alert-id="${withheld.id}"]`).count()).toBe(0);
    await harness.shots(p, '2-operator-unassigned');
    expect(harness.cspViolations).toEqual([]);
  }, 120_000);
});
