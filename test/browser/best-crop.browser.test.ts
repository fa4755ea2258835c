/**
 * Issue #21 item 3 in headless Chromium against the whole system: one alert per person passing with
 * the best crop. When a better view of the track replaces an alert's crop, the operator's card shows
 * the new one without a reload. Screenshots go to `test-artifacts/browser/best-crop/`.
 */
import fs from 'node:fs';
import { backendName } from '@vigil/core/testing';
import { MatchedAlertRepository, publishCropUpgraded } from '@vigil/matcher';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trackView } from '../../services/api/test/realtime-fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'best crop admin password';

/** A 112x112 crop of one colour: the first view dark, the better one light. */
const crop = (r: number, g: number, b: number) =>
  sharp({ create: { width: 112, height: 112, channels: 3, background: { r, g, b } } })
    .jpeg()
    .toBuffer();

describe.runIf(fs.existsSync(CHROMIUM))(
  `the best crop of a track in headless Chromium (${backendName})`,
  () => {
    let harness: ConsoleHarness;

    beforeAll(async () => {
      harness = await startConsoleHarness({ artifacts: 'browser/best-crop', adminPassword: ADMIN_PASSWORD });
    }, 240_000);
    afterAll(async () => {
      await harness?.stop();
    });

    it("swaps the card's crop for the better view's when the matcher replaces it, still one card", async () => {
      const { system } = harness;
      const { deployment, cipher } = await harness.stoppedDeployment('Best crop deployment');
      const { deploymentId, cameraId } = deployment;
      const alerts = new MatchedAlertRepository(system.db);
      const first = await alerts.store(
        trackView(cipher, deployment, { sequence: 1, quality: 0.3, crop: await crop(40, 40, 40) }),
        30,
      );
      if (!('stored' in first)) throw new Error('the first view was not stored');
      const { id } = first.stored;

      const operator = await harness.page('best-crop');
      await harness.login(operator, 'admin', ADMIN_PASSWORD);
      await operator.goto(`${system.url}/#/operator?deployment=${deploymentId}`);
      const card = operator.locator(`.alert-card[data-alert-id="${id}"]`);
      await card.waitFor();
      // Subscribed (the badge turns live after the server's acknowledgement).
      await expect.poll(() => operator.locator('#connection').getAttribute('data-state')).toBe('connected');
      const before = await card.locator('img.probe').getAttribute('src');
      await harness.shots(operator, '1-first-view');

      expect(
        await alerts.store(
          trackView(cipher, deployment, {
            sequence: 2,
            quality: 0.9,
            score: 0.7,
            crop: await crop(230, 190, 160),
          }),
          30,
        ),
      ).toMatchObject({
        upgraded: { id },
      });
      publishCropUpgraded(system.bus, { alertId: id, deploymentId, cameraId });
      await expect.poll(() => card.getAttribute('data-crop-upgraded'), { timeout: 10_000 }).toBe('true');
      const after = await card.locator('img.probe').getAttribute('src');
      expect(after).not.toBe(before);
      expect(after).toBe(`data:image/jpeg;base64,${(await crop(230, 190, 160)).toString('base64')}`);
      expect(await card.locator('figcaption').first().textContent()).toBe('Camera (clearer view)');
      // The alert keeps the higher score of its views.
      expect(await card.locator('.score').textContent()).toBe('0.700 (threshold 0.500)');
      expect(await operator.locator('.alert-card').count()).toBe(1);
      await harness.shots(operator, '2-better-view');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);
  },
);
