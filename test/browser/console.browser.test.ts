import fs from 'node:fs';
import path from 'node:path';
import { backendName } from '@vigil/core/testing';
import { strToU8, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_THRESHOLD, enrolmentImage, makeVideo, SAMPLES } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, dropFiles, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'browser test admin password';
const USER_PASSWORD = 'browser test user password 42';

describe.runIf(fs.existsSync(CHROMIUM))(`web console in headless Chromium (${backendName})`, () => {
  let harness: ConsoleHarness;
  let dir: string;
  let system: ConsoleHarness['system'];
  let cspViolations: string[];
  let video: string;
  let photo: string;

  const page = (name: string): Promise<Page> => harness.page(name, { width: 1366, height: 900 });
  const login = (p: Page, username: string, password: string) => harness.login(p, username, password);
  const shot = (p: Page, name: string) => harness.shot(p, name);

  beforeAll(async () => {
    harness = await startConsoleHarness({ artifacts: 'browser', adminPassword: ADMIN_PASSWORD });
    ({ dir, system, cspViolations } = harness);
    video = makeVideo(dir);
    photo = path.join(dir, 'enrol.jpg');
    fs.writeFileSync(photo, enrolmentImage(dir));
    for (const [username, role] of [
      ['manager', 'watchlist_manager'],
      ['op-one', 'operator'],
      ['op-two', 'operator'],
    ] as const)
      await harness.createUser(username, USER_PASSWORD, role);
  }, 240_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('enrols, deploys a file camera, shows the live alert to two operators and shares an outcome', async () => {
    // A watchlist manager enrols the subject with a photo.
    const manager = await page('manager');
    await login(manager, 'manager', USER_PASSWORD);
    await manager.waitForSelector('#create-watchlist');
    await manager.fill('#new-watchlist-name', 'Browser test list');
    await manager.click('#create-watchlist button[type=submit]');
    await manager.click('button[data-watchlist]');
    await manager.fill('#subject-label', 'Enrolled Person');
    await manager.selectOption('#subject-priority', 'red');
    await manager.fill('#subject-notes', 'dark hair, seen near the entrance');
    // Dropped onto the drop zone, as a manager drags a photo from their desktop.
    await dropFiles(manager, [
      { name: 'enrol.jpg', type: 'image/jpeg', base64: fs.readFileSync(photo).toString('base64') },
    ]);
    await manager.waitForSelector('#image-verdicts li');
    await manager.click('#enrol-form button[type=submit]');
    await expect
      .poll(() => manager.textContent('#watchlist-feedback'), { timeout: 60_000 })
      .toContain('Enrolled');
    await manager.waitForSelector('#subject-grid li[data-subject-id]');
    await shot(manager, '1-watchlist-enrolled');

    // The admin creates the deployment, assigns both operators and adds the file camera.
    const admin = await page('admin');
    await login(admin, 'admin', ADMIN_PASSWORD);
    await admin.goto(`${system.url}/#/deployments`);
    await admin.waitForSelector('#new-deployment-watchlists input[type=checkbox]');
    await admin.fill('#new-deployment-name', 'Browser test deployment');
    await admin.fill('#new-deployment-location', 'Station forecourt');
    await admin.fill('#new-deployment-threshold', String(E2E_THRESHOLD));
    await admin.check('#new-deployment-watchlists input[type=checkbox]');
    await admin.click('#create-deployment button[type=submit]');
    await admin.click('button[data-deployment]');
    await admin.waitForSelector('#operator-select');
    for (const operator of ['op-one', 'op-two']) {
      await admin.selectOption('#operator-select', { label: operator });
      await admin.click('#assign-operator button[type=submit]');
      await expect.poll(() => admin.textContent('#assign-operator ul')).toContain(operator);
    }
    await admin.fill('#camera-name', 'Forecourt camera');
    await admin.fill('#camera-url', video);
    await admin.fill('#camera-fps', '2');
    await admin.click('#add-camera button[type=submit]');
    await expect.poll(() => admin.textContent('#add-camera ul')).toContain('Forecourt camera');

    // Both operators watch the deployment before it starts, so the alert arrives live.
    const one = await page('op-one');
    await login(one, 'op-one', USER_PASSWORD);
    const two = await page('op-two');
    await login(two, 'op-two', USER_PASSWORD);
    for (const p of [one, two]) {
      await p.waitForSelector('#deployment-picker');
      await expect.poll(() => p.getAttribute('#connection', 'data-state')).toBe('connected');
    }

    const deploymentId = await admin.getAttribute('[data-deployment-id]', 'data-deployment-id');
    await harness.authorise(`${deploymentId}`);
    await admin.click('#start-deployment');
    await expect.poll(() => admin.textContent('#deployment-status')).toBe('running');
    await shot(admin, '2-deployment-running');

    const card = one.locator('.alert-card').first();
    await card.waitFor({ timeout: 120_000 });
    await expect.poll(() => card.getAttribute('class')).toContain('priority-red');
    expect(await card.locator('img.probe').getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
    await expect
      .poll(() => card.locator('img.reference').getAttribute('src'), { timeout: 10_000 })
      .toMatch(/^blob:/);
    expect(await card.textContent()).toContain('Enrolled Person');
    expect(await card.textContent()).toContain('Forecourt camera');
    await two.locator('.alert-card').first().waitFor({ timeout: 30_000 });
    await shot(one, '3-operator-alert');

    // Operator one records the outcome with the keyboard shortcut; operator two sees it live.
    const alertId = await card.getAttribute('data-alert-id');
    await card.focus();
    await one.keyboard.press('1');
    await expect.poll(() => card.getAttribute('data-outcome')).toBe('confirmed');
    const seenByTwo = two.locator(`.alert-card[data-alert-id="${alertId}"]`);
    await expect.poll(() => seenByTwo.getAttribute('data-outcome'), { timeout: 15_000 }).toBe('confirmed');
    expect(await seenByTwo.locator('.outcome').textContent()).toContain('op-one');
    await shot(two, '4-second-operator-sees-outcome');

    // Pass it to operator two as the officer on the ground: the phone-sized view shows it.
    await one.selectOption(`.alert-card[data-alert-id="${alertId}"] select.officer`, { label: 'op-two' });
    await one.click(`.alert-card[data-alert-id="${alertId}"] .dispatch-button`);
    await expect
      .poll(() => one.textContent(`.alert-card[data-alert-id="${alertId}"] .action-status`))
      .toContain('Passed');
    await two.setViewportSize({ width: 390, height: 844 });
    await two.goto(`${system.url}/#/officer`);
    const officerCard = two.locator(`.officer-card[data-alert-id="${alertId}"]`);
    await officerCard.waitFor();
    expect(await officerCard.textContent()).toContain('Station forecourt');
    expect(await officerCard.textContent()).toContain('dark hair');
    await officerCard.locator('button[data-outcome="engaged"]').click();
    await expect.poll(() => officerCard.locator('.outcome').textContent()).toContain('Engaged');
    await shot(two, '5-officer-phone');

    // Oversight: statistics and the audit trail render.
    await admin.goto(`${system.url}/#/oversight`);
    await expect.poll(() => admin.textContent('#audit-verify'), { timeout: 15_000 }).toContain('intact');
    await admin.waitForSelector('#deployment-stats table');
    await shot(admin, '6-oversight');

    expect(cspViolations).toEqual([]);
  }, 300_000);

  it('pulls stills out of a video in the browser with ffmpeg.wasm served from this origin', async () => {
    const manager = await page('manager-video');
    const requests: string[] = [];
    manager.on('request', (request) => requests.push(request.url()));
    await login(manager, 'manager', USER_PASSWORD);
    await manager.click('button[data-watchlist]');
    await manager.click('#enrol-form details summary');
    await manager.setInputFiles('#video-file', video);
    await expect
      .poll(() => manager.textContent('#video-status'), { timeout: 120_000 })
      .toMatch(/^\d+ stills/);
    const stills = await manager.locator('#video-stills img').count();
    expect(stills).toBeGreaterThan(5);
    await manager.locator('#video-stills button').first().click();
    await expect.poll(() => manager.locator('#image-verdicts li').count()).toBe(1);
    await shot(manager, '7-video-stills');
    const origin = new URL(system.url!).origin;
    // Everything came from this server; the video itself was never uploaded.
    expect(
      requests.filter(
        (url) => !url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:'),
      ),
    ).toEqual([]);
    expect(requests.some((url) => url.endsWith('/ffmpeg/ffmpeg-core.wasm'))).toBe(true);
    expect(cspViolations).toEqual([]);
  }, 180_000);

  it('bulk-imports a ZIP with a CSV and shows progress and each failed row', async () => {
    const manager = await page('manager-import');
    await login(manager, 'manager', USER_PASSWORD);
    await manager.fill('#new-watchlist-name', 'Imported list');
    await manager.click('#create-watchlist button[type=submit]');
    await manager.click('button[data-watchlist]:has-text("Imported list")');
    const zip = path.join(dir, 'import.zip');
    fs.writeFileSync(
      zip,
      zipSync({
        'enrol.jpg': fs.readFileSync(photo),
        // A group photo: several faces, so the row fails with multiple_faces.
        'group.jpg': fs.readFileSync(path.join(SAMPLES, 'sample1.jpg')),
        'labels.csv': strToU8(
          'label,category,priority,file\nImported Person,wanted,amber,enrol.jpg\nGroup Photo,other,green,group.jpg\n',
        ),
      }),
    );
    await manager.setInputFiles('#import-archive', zip);
    await manager.click('#import-form button[type=submit]');
    await expect.poll(() => manager.textContent('#import-status'), { timeout: 120_000 }).toMatch(/^done/);
    expect(await manager.textContent('#import-status')).toContain('1 enrolled, 1 failed');
    expect(await manager.textContent('#import-errors')).toContain('multiple_faces');
    await manager.waitForSelector('#subject-grid li[data-subject-id]');
    // The list's count on the left follows the import without a reload.
    const count = manager.locator('#watchlists li', { hasText: 'Imported list' }).locator('.subject-count');
    await expect.poll(() => count.textContent(), { timeout: 30_000 }).toBe('1 subject');
    await shot(manager, '8-bulk-import');
    expect(cspViolations).toEqual([]);
  }, 180_000);
});
