/**
 * Regression tests for the console defects of issue #23, in headless Chromium against the whole system
 * (`startSystem`, all roles) with the console as `npm start` serves it. Screenshots of every view the
 * fixes touch, at desktop and phone size, go to `test-artifacts/browser/issue-23/`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadDataCipher } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, storeAlert } from '../../services/api/test/realtime-fixtures.js';
import { enrolmentImage, makeVideo, SAMPLES } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, dropFiles, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'issue 23 admin password';
const USER_PASSWORD = 'issue 23 user password 42';

describe.runIf(fs.existsSync(CHROMIUM))(
  `console fixes of issue #23 in headless Chromium (${backendName})`,
  () => {
    let harness: ConsoleHarness;
    let system: ConsoleHarness['system'];
    let video: string;
    let photo: string;
    let cspViolations: string[];
    let notFound: string[];

    const page = (name: string): Promise<Page> => harness.page(name);
    const login = (p: Page, username: string, password: string) => harness.login(p, username, password);
    const shots = (p: Page, name: string) => harness.shots(p, name);
    const call = <T>(method: string, url: string, body?: unknown) => harness.call<T>(method, url, body);

    beforeAll(async () => {
      harness = await startConsoleHarness({ artifacts: 'browser/issue-23', adminPassword: ADMIN_PASSWORD });
      ({ system, cspViolations, notFound } = harness);
      video = makeVideo(harness.dir);
      photo = path.join(harness.dir, 'enrol.jpg');
      fs.writeFileSync(photo, enrolmentImage(harness.dir));
      await harness.createUser('manager', USER_PASSWORD, 'watchlist_manager');
      await harness.createUser('op-one', USER_PASSWORD, 'operator');
    }, 240_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('serves a same-origin favicon, so /favicon.ico is no 404 (issue #23.6)', async () => {
      const ico = await fetch(`${system.url}/favicon.ico`);
      expect(ico.status).toBe(200);
      expect(ico.headers.get('content-type')).toMatch(/^image\//);
      const p = await page('favicon');
      const href = await p.getAttribute('link[rel=icon]', 'href');
      expect(href).toMatch(/^\/[^/]/);
      const linked = await fetch(new URL(href!, system.url).toString());
      expect(linked.status).toBe(200);
      expect(linked.headers.get('content-type')).toMatch(/^image\//);
      await p.waitForTimeout(500);
      expect(notFound.filter((url) => url.includes('favicon'))).toEqual([]);
      expect(cspViolations).toEqual([]);
    });

    it('reports every photo that would be rejected in words before enrolling, enrols the rest once they are removed, and colours the subject card by priority (issue #23.2, #23.3)', async () => {
      const manager = await page('manager');
      await login(manager, 'manager', USER_PASSWORD);
      await manager.fill('#new-watchlist-name', 'Issue 23 list');
      await manager.click('#create-watchlist button[type=submit]');
      await manager.click('button[data-watchlist]');
      await manager.fill('#subject-label', 'Enrolled Person');
      await manager.selectOption('#subject-priority', 'red');
      await dropFiles(manager, [
        { name: 'enrol.jpg', type: 'image/jpeg', base64: fs.readFileSync(photo).toString('base64') },
        // A group photo: several faces.
        {
          name: 'group.jpg',
          type: 'image/jpeg',
          base64: fs.readFileSync(path.join(SAMPLES, 'sample1.jpg')).toString('base64'),
        },
        // Not an image at all, whatever its name says.
        { name: 'notes.jpg', type: 'image/jpeg', base64: Buffer.from('not a photo').toString('base64') },
      ]);
      // Each photo is checked before anything is enrolled: the rejected ones are marked in words.
      const verdicts = manager.locator('#image-verdicts li');
      await expect
        .poll(() => manager.locator('#image-verdicts li.verdict-pending').count(), { timeout: 60_000 })
        .toBe(0);
      expect(await verdicts.count()).toBe(3);
      const failures = manager.locator('#image-verdicts li.verdict-bad');
      expect(await failures.count()).toBe(2);
      const reported = (await failures.allTextContents()).join('\n');
      expect(reported).toContain('group.jpg');
      expect(reported).toContain('notes.jpg');
      expect(reported).toMatch(/faces: crop to one person/i);
      expect(reported).toMatch(/not a photo Vigil can read/i);
      // Words, not the API's codes.
      expect(reported).not.toMatch(/multiple_faces|unsupported_image/);
      expect(await manager.isDisabled('#enrol-button')).toBe(true);
      await shots(manager, '1-watchlists-rejected-photos');

      // Removed, they leave only the accepted photo to send.
      await manager.click('button[aria-label="Remove group.jpg"]');
      await manager.click('button[aria-label="Remove notes.jpg"]');
      expect(await verdicts.allTextContents()).toEqual([expect.stringContaining('enrol.jpg')]);
      await manager.click('#enrol-form button[type=submit]');
      await expect
        .poll(() => manager.textContent('#watchlist-feedback'), { timeout: 60_000 })
        .toContain('Enrolled');
      expect(await failures.count()).toBe(0);
      const card = manager.locator('#subject-grid li.subject.priority-red');
      await card.waitFor();
      // --red in styles.css: the card's left edge carries the priority colour.
      // The page's getComputedStyle (this file is typed for Node, without the DOM library).
      const border = await card.evaluate(
        (el) =>
          (
            globalThis as unknown as { getComputedStyle(e: unknown): { borderLeftColor: string } }
          ).getComputedStyle(el).borderLeftColor,
      );
      expect(border).toBe('rgb(229, 72, 77)');
      await shots(manager, '2-watchlists-subject-priority');
      expect(cspViolations).toEqual([]);
    }, 180_000);

    it("clears an alert's note once its outcome is recorded, so the next outcome does not carry it (issue #23.1)", async () => {
      const deployment = await createDeployment(system.db, 'Issue 23 operator deployment');
      // Stopped: its made-up camera is not for the ingest to run; its alerts still list.
      await system.db.query("UPDATE deployments SET status = 'stopped' WHERE id = $1", [
        deployment.deploymentId,
      ]);
      const cipher = loadDataCipher({
        dataKey: system.config.VIGIL_DATA_KEY,
        dataDir: system.config.dataDir,
      });
      const { id } = await storeAlert(system.db, system.bus, cipher, deployment);
      const admin = await page('operator-note');
      await login(admin, 'admin', ADMIN_PASSWORD);
      await admin.goto(`${system.url}/#/operator?deployment=${deployment.deploymentId}`);
      const card = admin.locator(`.alert-card[data-alert-id="${id}"]`);
      await card.waitFor();
      await card.locator('input.note').fill('stopped at the north gate');
      await card.locator('button[data-outcome="engaged"]').click();
      await expect.poll(() => card.locator('.outcome').textContent()).toContain('stopped at the north gate');
      expect(await card.locator('input.note').inputValue()).toBe('');
      await card.locator('button[data-outcome="arrested"]').click();
      await expect.poll(() => card.locator('.outcome').textContent()).toContain('Arrested');
      expect(await card.locator('.outcome').textContent()).not.toContain('north gate');
      const page1 = await call<{
        alerts: { id: string; adjudications: { outcome: string; note?: string | null }[] }[];
      }>('GET', `/deployments/${deployment.deploymentId}/alerts?limit=5`);
      const notes = page1.alerts
        .find((a) => a.id === id)
        ?.adjudications.map((a) => [a.outcome, a.note || null]);
      expect(notes).toEqual([
        ['engaged', 'stopped at the north gate'],
        ['arrested', null],
      ]);
      await shots(admin, '3-operator-outcome-note');
    }, 120_000);

    it("defaults the threshold to the model profile's, warns before starting without an operator, confirms Stop and keeps camera status live (issue #23.4, #23.5)", async () => {
      const model = await call<{ defaultThreshold: number; thresholdFloor: number }>('GET', '/model');
      const list = await call<{ id: string }>('POST', '/watchlists', { name: 'Issue 23 deployment list' });
      const admin = await page('deployments');
      await login(admin, 'admin', ADMIN_PASSWORD);
      await admin.goto(`${system.url}/#/deployments`);
      const threshold = admin.locator('#new-deployment-threshold');
      await expect.poll(() => threshold.inputValue()).toBe(String(model.defaultThreshold));
      expect(await threshold.getAttribute('min')).toBe(String(model.thresholdFloor));

      await admin.fill('#new-deployment-name', 'Issue 23 deployment');
      await admin.check(`#new-deployment-watchlists input[value="${list.id}"]`);
      await admin.click('#create-deployment button[type=submit]');
      await expect.poll(() => admin.textContent('#deployment-feedback')).toContain('Created');
      // The value survives the create, for the next deployment.
      expect(await threshold.inputValue()).toBe(String(model.defaultThreshold));

      await admin.click('button[data-deployment]:has-text("Issue 23 deployment")');
      await admin.fill('#camera-name', 'Looping camera');
      await admin.fill('#camera-url', video);
      await admin.fill('#camera-fps', '1');
      await admin.check('#camera-loop');
      await admin.click('#add-camera button[type=submit]');
      await expect.poll(() => admin.textContent('#add-camera ul')).toContain('Looping camera');

      // No operator assigned: Start asks first, and nothing starts until it is confirmed.
      await harness.authorise(`${await admin.getAttribute('[data-deployment-id]', 'data-deployment-id')}`);
      await admin.click('#start-deployment');
      await admin.locator('#start-warning').waitFor();
      expect(await admin.textContent('#start-warning')).toMatch(/no operator/i);
      expect(await admin.textContent('#deployment-status')).toBe('planned');
      await shots(admin, '4-deployments-start-warning');
      await admin.click('#start-anyway');
      await expect.poll(() => admin.textContent('#deployment-status')).toBe('running');

      // The camera's status follows the stream without reopening the deployment.
      const camera = admin.locator('#add-camera li[data-camera]');
      await expect.poll(() => camera.getAttribute('data-status'), { timeout: 90_000 }).toBe('online');
      await shots(admin, '5-deployments-camera-online');

      // The admin changes the running deployment's threshold from the console, with a reason.
      const deploymentId = `${await admin.getAttribute('[data-deployment-id]', 'data-deployment-id')}`;
      const raised = Number(Math.min(0.99, model.thresholdFloor + 0.1).toFixed(2));
      await admin.fill('#threshold-change', String(raised));
      await admin.fill('#threshold-reason', 'Too many false alerts at dusk');
      await admin.click('#threshold-form button[type=submit]');
      await expect.poll(() => admin.textContent('#deployment-feedback')).toContain(`to ${raised}`);
      await expect.poll(() => admin.textContent('[data-deployment-id]')).toContain(`threshold ${raised}`);
      const changed = await call<{ threshold: number }>('GET', `/deployments/${deploymentId}`);
      expect(changed.threshold).toBeCloseTo(raised, 5);
      const trail = await call<{ entries: { action: string; details: Record<string, unknown> }[] }>(
        'GET',
        `/audit?action=deployment.threshold_change&limit=5`,
      );
      expect(trail.entries[0]?.details).toMatchObject({
        to: raised,
        reason: 'Too many false alerts at dusk',
      });
      await shots(admin, '5b-deployments-threshold-changed');

      await admin.click('#stop-deployment');
      await admin.locator('#stop-confirm').waitFor();
      expect(await admin.textContent('#deployment-status')).toBe('running');
      await shots(admin, '6-deployments-stop-confirm');
      await admin.click('#stop-anyway');
      await expect.poll(() => admin.textContent('#deployment-status')).toBe('stopped');
      await expect.poll(() => camera.getAttribute('data-status'), { timeout: 60_000 }).not.toBe('online');
      expect(cspViolations).toEqual([]);
    }, 240_000);
  },
);
