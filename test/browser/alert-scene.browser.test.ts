/**
 * Issue #23 in headless Chromium against the whole system: the operator opens the scene kept with an
 * alert (the matched face boxed, everyone else blurred) from the alert card's "Scene" button, and a
 * camera's live view from its "Live" button. Screenshots go to `test-artifacts/browser/alert-scene/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AuditRepository, alertSceneContext, subject } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { composeScene, FaceEngine, SCENE_MAX_WIDTH } from '@vigil/face-runtime';
import { MatchedAlertRepository } from '@vigil/matcher';
import { encodeFrame } from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeAlert } from '../../services/api/test/realtime-fixtures.js';
import { SAMPLES } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'alert scene admin password';

describe.runIf(fs.existsSync(CHROMIUM))(`an alert's scene in headless Chromium (${backendName})`, () => {
  let harness: ConsoleHarness;
  let scene: Buffer;
  let engine: FaceEngine;
  let photo: Buffer;

  beforeAll(async () => {
    harness = await startConsoleHarness({ artifacts: 'browser/alert-scene', adminPassword: ADMIN_PASSWORD });
    // A real scene: sample1's three faces found by the detector, the right-most kept, the others blurred.
    photo = fs.readFileSync(path.join(SAMPLES, 'sample1.jpg'));
    engine = await FaceEngine.load({ profile: 'default' });
    const boxes = (await engine.detect(photo)).faces.map(({ face }) => face.box).sort((a, b) => a[0] - b[0]);
    const kept = boxes.pop();
    if (!kept) throw new Error('no face in the sample photo');
    scene = (await composeScene(photo, { keep: [kept], blur: boxes, maxWidth: SCENE_MAX_WIDTH })).jpeg;
  }, 240_000);
  afterAll(async () => {
    await engine?.dispose();
    await harness?.stop();
  });

  it('opens the scene large from the card’s Scene button, audited; says so when none was kept', async () => {
    const { system } = harness;
    const { deployment, cipher } = await harness.stoppedDeployment('Scene deployment');
    const withScene = await storeAlert(system.db, system.bus, cipher, deployment);
    await new MatchedAlertRepository(system.db).storeScene(withScene.id, (key) =>
      cipher.seal(scene, alertSceneContext(key)),
    );
    const without = await storeAlert(system.db, system.bus, cipher, deployment);

    const operator = await harness.page('alert-scene');
    await harness.login(operator, 'admin', ADMIN_PASSWORD);
    await operator.goto(`${system.url}/#/operator?deployment=${deployment.deploymentId}`);
    const card = operator.locator(`.alert-card[data-alert-id="${withScene.id}"]`);
    await card.waitFor();
    await card.locator('button.scene-button').click();
    const image = operator.locator('dialog.scene-dialog img.scene-image');
    await image.waitFor();
    await expect
      .poll(() =>
        image.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth),
      )
      .toBe(SCENE_MAX_WIDTH);
    expect(await operator.locator('dialog.scene-dialog figcaption').textContent()).toContain('boxed in red');
    await harness.shots(operator, '1-scene-open');
    const views = await new AuditRepository(system.db).list({ action: 'alert_scene.view' });
    expect(views[0]?.details).toEqual({ alertIds: [withScene.id] });

    await operator.keyboard.press('Escape');
    await expect.poll(() => operator.locator('dialog.scene-dialog').count()).toBe(0);
    await operator.locator(`.alert-card[data-alert-id="${without.id}"] button.scene-button`).click();
    await expect
      .poll(() => operator.locator('dialog.scene-dialog .scene-status').textContent())
      .toContain('No scene was kept');
    await harness.shots(operator, '2-no-scene');
    expect(harness.cspViolations).toEqual([]);
  }, 120_000);

  it('shows a camera’s live view from its Live button, every face blurred, until closed', async () => {
    const { system } = harness;
    const { deployment } = await harness.stoppedDeployment('Live deployment');
    const { deploymentId, cameraId } = deployment;
    const frame = await sharp(photo).resize(960).jpeg({ quality: 90 }).toBuffer();
    let sequence = 0;
    // The camera, as ingest would send it: 5 frames a second to the system's own detector.
    const camera = setInterval(() => {
      sequence++;
      system.bus.publish(
        subject('frames', deploymentId, cameraId),
        encodeFrame({ deploymentId, cameraId, sequence, capturedAtMs: Date.now(), jpeg: frame }),
      );
    }, 200);
    try {
      const operator = await harness.page('live-view');
      await harness.login(operator, 'admin', ADMIN_PASSWORD);
      await operator.goto(`${system.url}/#/operator?deployment=${deploymentId}`);
      await operator.locator(`button.live-button[data-camera="${cameraId}"]`).click();
      const image = operator.locator(`figure.live-view[data-camera="${cameraId}"] img.live-frame`);
      await expect
        .poll(() => image.getAttribute('src'), { timeout: 30_000 })
        .toMatch(/^data:image\/jpeg;base64,/);
      const src = (await image.getAttribute('src')) as string;
      const shown = Buffer.from(src.slice(src.indexOf(',') + 1), 'base64');
      expect((await sharp(shown).metadata()).width).toBe(640);
      const confident = (await engine.detect(shown)).faces.filter(({ face }) => face.score >= 0.5);
      expect(confident).toEqual([]);
      expect(await operator.locator(`button.live-button[data-camera="${cameraId}"]`).textContent()).toBe(
        'Stop live',
      );
      await harness.shots(operator, '3-live-view');
      await operator.locator(`figure.live-view[data-camera="${cameraId}"] button.close-live`).click();
      expect(await operator.locator('figure.live-view').count()).toBe(0);
      expect(await operator.locator(`button.live-button[data-camera="${cameraId}"]`).textContent()).toBe(
        'Live',
      );
      expect(harness.cspViolations).toEqual([]);
    } finally {
      clearInterval(camera);
    }
  }, 120_000);
});
