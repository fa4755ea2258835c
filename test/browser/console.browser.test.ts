import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase, uniqueToken } from '@vigil/core/testing';
import { strToU8, zipSync } from 'fflate';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeAlertConsumer } from '../../services/api/test/realtime-fixtures.js';
import { type System, startSystem } from '../../services/cli/src/system.js';
import { E2E_THRESHOLD, enrolmentImage, makeVideo, SAMPLES } from '../pipeline/pipeline.fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = path.join(root, 'test-artifacts/browser');
const ADMIN_PASSWORD = 'browser test admin password';
const USER_PASSWORD = 'browser test user password 42';

describe.runIf(fs.existsSync(CHROMIUM))(`web console in headless Chromium (${backendName})`, () => {
  let dir: string;
  let testDb: TestDatabase;
  let system: System;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const cspViolations: string[] = [];
  let video: string;
  let photo: string;
  const consumer = `browser-${uniqueToken()}`;

  async function page(name: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    contexts.push(context);
    const p = await context.newPage();
    p.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text()))
        cspViolations.push(`${name}: ${message.text()}`);
    });
    await p.goto(system.url!);
    return p;
  }

  async function login(p: Page, username: string, password: string): Promise<void> {
    await p.fill('#username', username);
    await p.fill('#password', password);
    await p.click('#login-form button[type=submit]');
    await p.waitForSelector('#whoami');
  }

  async function shot(p: Page, name: string): Promise<void> {
    await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  }

  async function createUser(username: string, role: string): Promise<void> {
    const login = await fetch(`${system.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const created = await fetch(`${system.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ username, password: USER_PASSWORD, role }),
    });
    if (created.status !== 201) throw new Error(`creating ${username}: ${await created.text()}`);
  }

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-browser-'));
    // The console as `npm start` serves it: built by Vite into services/console/dist.
    const build = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], {
      cwd: path.join(root, 'services/console'),
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`console build failed: ${build.stderr}`);
    video = makeVideo(dir);
    photo = path.join(dir, 'enrol.jpg');
    fs.writeFileSync(photo, enrolmentImage(dir));
    testDb = await createTestDatabase();
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      VIGIL_DATA_DIR: path.join(dir, 'data'),
      VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD,
      VIGIL_DATA_KEY: randomBytes(32).toString('base64'),
      VIGIL_ALERT_CONSUMER: consumer,
      LOG_LEVEL: 'warn',
      ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
      ...(process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
    });
    system = await startSystem({ config, roles: ['all'] });
    await createUser('manager', 'watchlist_manager');
    await createUser('op-one', 'operator');
    await createUser('op-two', 'operator');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
  }, 240_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await system?.stop();
    await testDb?.drop();
    await removeAlertConsumer(consumer);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
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
    const dataTransfer = await manager.evaluateHandle((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      // The page's DataTransfer (this file is typed for Node, without the DOM library).
      const { DataTransfer } = globalThis as unknown as {
        DataTransfer: new () => { items: { add(file: File): void } };
      };
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'enrol.jpg', { type: 'image/jpeg' }));
      return transfer;
    }, fs.readFileSync(photo).toString('base64'));
    await manager.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
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
    await shot(manager, '8-bulk-import');
    expect(cspViolations).toEqual([]);
  }, 180_000);
});
