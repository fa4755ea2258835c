/**
 * Each role's work in the console that issue #23 found missing, in headless Chromium against the whole
 * system: admins manage users and operators, everyone changes their own password. Screenshots at
 * desktop and phone size go to `test-artifacts/browser/roles/`.
 */
import fs from 'node:fs';
import { loadDataCipher } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment, storeAlert } from '../../services/api/test/realtime-fixtures.js';
import { enrolmentImage } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'roles test admin password';
const USER_PASSWORD = 'roles test user password 42';

describe.runIf(fs.existsSync(CHROMIUM))(
  `console roles of issue #23 in headless Chromium (${backendName})`,
  () => {
    let harness: ConsoleHarness;

    async function loginStatus(username: string, password: string): Promise<number> {
      const response = await fetch(`${harness.system.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      return response.status;
    }

    async function admin(): Promise<Page> {
      const p = await harness.page('admin');
      await harness.login(p, 'admin', ADMIN_PASSWORD);
      return p;
    }

    beforeAll(async () => {
      harness = await startConsoleHarness({ artifacts: 'browser/roles', adminPassword: ADMIN_PASSWORD });
      await harness.createUser('op-one', USER_PASSWORD, 'operator');
      await harness.createUser('op-two', USER_PASSWORD, 'operator');
    }, 240_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('lets an admin create a user, change their role, disable and enable them and set a new password, in words (issue #23 admin)', async () => {
      const p = await admin();
      await p.click('nav a[href="#/users"]');
      await p.fill('#new-user-name', 'new-person');
      await p.selectOption('#new-user-role', 'operator');
      await p.fill('#new-user-password', USER_PASSWORD);
      await p.click('#create-user button[type=submit]');
      await expect.poll(() => p.textContent('#users-feedback')).toBe('Created new-person (Operator).');
      const row = p.locator('#user-table tr[data-user="new-person"]');
      await row.waitFor();
      expect(await row.textContent()).toContain('Active');

      // A taken username is refused in words.
      await p.fill('#new-user-name', 'new-person');
      await p.fill('#new-user-password', USER_PASSWORD);
      await p.click('#create-user button[type=submit]');
      await expect
        .poll(() => p.textContent('#users-feedback'))
        .toBe('That username is taken: choose another.');

      await row.locator('select.role-select').selectOption('oversight');
      await expect.poll(() => p.textContent('#users-feedback')).toBe('new-person is now Oversight.');
      const listed = await harness.call<{ username: string; role: string; disabled: boolean }[]>(
        'GET',
        '/users',
      );
      expect(listed.find((u) => u.username === 'new-person')?.role).toBe('oversight');

      await row.locator('button.toggle-disabled').click();
      await expect.poll(() => row.getAttribute('data-disabled')).toBe('true');
      expect(await row.textContent()).toContain('Disabled');
      expect(await loginStatus('new-person', USER_PASSWORD)).toBe(401);
      await harness.shots(p, '1-users-disabled');
      await row.locator('button.toggle-disabled').click();
      await expect.poll(() => row.getAttribute('data-disabled')).toBe('false');
      expect(await loginStatus('new-person', USER_PASSWORD)).toBe(200);

      await row.locator('button.reset-password').click();
      await row.locator('input.new-password').fill('reset by the admin 2026');
      await row.locator('.inline-form button[type=submit]').click();
      await expect.poll(() => p.textContent('#users-feedback')).toContain('New password set for new-person');
      expect(await loginStatus('new-person', USER_PASSWORD)).toBe(401);
      expect(await loginStatus('new-person', 'reset by the admin 2026')).toBe(200);

      // The admin's own row: no demoting or disabling oneself.
      const own = p.locator('#user-table tr[data-user="admin"]');
      expect(await own.locator('select.role-select').isDisabled()).toBe(true);
      expect(await own.locator('button.toggle-disabled').isDisabled()).toBe(true);
      await harness.shots(p, '2-users');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);

    it('lets every role change its own password under Account, and says why a change is refused (issue #23 admin)', async () => {
      await harness.createUser('changer', USER_PASSWORD, 'watchlist_manager');
      const p = await harness.page('changer');
      await harness.login(p, 'changer', USER_PASSWORD);
      await p.click('nav a[href="#/account"]');
      expect(await p.textContent('#account-who')).toContain('Watchlist manager');

      await p.fill('#current-password', 'not the password at all');
      await p.fill('#new-password', 'my own new passphrase 1');
      await p.fill('#repeat-password', 'my own new passphrase 1');
      await p.click('#password-form button[type=submit]');
      await expect.poll(() => p.textContent('#account-feedback')).toBe('The current password is wrong.');
      // Still logged in: a wrong current password is not a dead session.
      expect(await p.isVisible('#whoami')).toBe(true);

      await p.fill('#current-password', USER_PASSWORD);
      await p.fill('#repeat-password', 'something else entirely');
      await p.click('#password-form button[type=submit]');
      await expect.poll(() => p.textContent('#account-feedback')).toBe('The two new passwords differ.');

      await p.fill('#repeat-password', 'my own new passphrase 1');
      await p.click('#password-form button[type=submit]');
      await expect
        .poll(() => p.textContent('#account-feedback'))
        .toBe('Password changed. Your other sessions have been logged out.');
      expect(await loginStatus('changer', USER_PASSWORD)).toBe(401);
      expect(await loginStatus('changer', 'my own new passphrase 1')).toBe(200);
      await harness.shots(p, '3-account');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);

    it('unassigns an operator from a deployment and shows when a stopped deployment ended (issue #23 admin)', async () => {
      const [opOne] = (await harness.call<{ id: string; username: string }[]>('GET', '/users')).filter(
        (u) => u.username === 'op-one',
      );
      const list = await harness.call<{ id: string }>('POST', '/watchlists', { name: 'Roles test list' });
      const model = await harness.call<{ defaultThreshold: number }>('GET', '/model');
      const deployment = await harness.call<{ id: string }>('POST', '/deployments', {
        name: 'Roles test deployment',
        location: 'North gate',
        threshold: model.defaultThreshold,
        watchlistIds: [list.id],
      });
      await harness.call('POST', `/deployments/${deployment.id}/operators`, { userIds: [opOne?.id] });

      const p = await admin();
      await p.goto(`${harness.system.url}/#/deployments`);
      await p.click('button[data-deployment]:has-text("Roles test deployment")');
      const assigned = p.locator('#assign-operator li[data-operator="op-one"]');
      await assigned.waitFor();
      await assigned.locator('button.unassign').click();
      await expect
        .poll(() => p.textContent('#deployment-feedback'))
        .toBe("op-one no longer receives this deployment's alerts.");
      await expect.poll(() => p.locator('#assign-operator li[data-operator]').count()).toBe(0);
      const after = await harness.call<{ operatorIds: string[] }>('GET', `/deployments/${deployment.id}`);
      expect(after.operatorIds).toEqual([]);

      // A deployment that ran and stopped (set in the database: starting needs an authorisation,
      // which is not what this test is about).
      const started = new Date(Date.now() - 3 * 3600_000);
      const stopped = new Date(Date.now() - 3600_000);
      await harness.system.db.query(
        "UPDATE deployments SET status = 'stopped', started_at = $2, stopped_at = $3 WHERE id = $1",
        [deployment.id, started.toISOString(), stopped.toISOString()],
      );
      await p.reload();
      await p.click('button[data-deployment]:has-text("Roles test deployment")');
      const times = p.locator('#deployment-times');
      await times.waitFor();
      const shown = await times.textContent();
      const local = (date: Date) => p.evaluate((iso) => new Date(iso).toLocaleString(), date.toISOString());
      expect(shown).toBe(`Started ${await local(started)}, stopped ${await local(stopped)}`);
      await harness.shots(p, '4-deployment-stopped');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);

    it('lets one operator take an alert so the other sees who has it, filters the list, says why it is empty, shows times in words and enlarges the faces (issue #23 operator)', async () => {
      const { system } = harness;
      const deployment = await createDeployment(system.db, 'Operator test deployment');
      // Stopped: its made-up camera is not for the ingest to run; its alerts still list.
      await system.db.query("UPDATE deployments SET status = 'stopped' WHERE id = $1", [
        deployment.deploymentId,
      ]);
      const users = await harness.call<{ id: string; username: string }[]>('GET', '/users');
      const ids = users.filter((u) => u.username.startsWith('op-')).map((u) => u.id);
      await harness.call('POST', `/deployments/${deployment.deploymentId}/operators`, { userIds: ids });
      const cipher = loadDataCipher({
        dataKey: system.config.VIGIL_DATA_KEY,
        dataDir: system.config.dataDir,
      });
      const first = await storeAlert(system.db, system.bus, cipher, deployment);
      const second = await storeAlert(system.db, system.bus, cipher, deployment);

      const pages: Page[] = [];
      for (const username of ['op-one', 'op-two']) {
        const p = await harness.page(username);
        await harness.login(p, username, USER_PASSWORD);
        await p.goto(`${system.url}/#/operator?deployment=${deployment.deploymentId}`);
        await p.locator(`.alert-card[data-alert-id="${first.id}"]`).waitFor();
        await expect.poll(() => p.getAttribute('#connection', 'data-state')).toBe('connected');
        pages.push(p);
      }
      const [one, two] = pages as [Page, Page];
      const cardOf = (p: Page, id: string) => p.locator(`.alert-card[data-alert-id="${id}"]`);

      // When, in words, with the exact time on hover.
      const seen = cardOf(one, first.id).locator('time.when');
      expect(await seen.textContent()).toMatch(/^(just now|\d+ min ago)$/);
      expect(await seen.getAttribute('title')).toMatch(/\d/);

      await cardOf(one, first.id).locator('button.claim-button').click();
      await expect
        .poll(() => cardOf(one, first.id).locator('.claim-text').textContent())
        .toBe('You are handling this alert.');
      // The other operator's card says so within a moment, over the socket.
      await expect
        .poll(() => cardOf(two, first.id).locator('.claim-text').textContent(), { timeout: 15_000 })
        .toBe('op-one is handling this alert.');
      expect(await cardOf(two, first.id).locator('button.claim-button').isDisabled()).toBe(true);
      await harness.shots(two, '5-operator-claimed-by-other');

      await two.selectOption('#alert-filter', 'unclaimed');
      expect(await cardOf(two, first.id).isHidden()).toBe(true);
      expect(await cardOf(two, second.id).isVisible()).toBe(true);
      await two.selectOption('#alert-filter', 'mine');
      await expect
        .poll(() => two.textContent('#alert-empty'))
        .toBe('None of the 2 alerts is taken by me. Choose “All alerts” to see them.');
      await two.selectOption('#alert-filter', 'all');
      expect(await two.isHidden('#alert-empty')).toBe(true);

      // Giving it back frees it for the other operator.
      await cardOf(one, first.id).locator('button.claim-button').click();
      await expect
        .poll(() => cardOf(two, first.id).locator('.claim-text').textContent(), { timeout: 15_000 })
        .toBe('Nobody is handling this alert yet.');

      await cardOf(one, first.id).locator('.faces').click();
      const dialog = one.locator('dialog.crop-dialog');
      await dialog.waitFor();
      expect(await dialog.locator('img').first().getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
      await harness.shots(one, '6-operator-enlarged');
      const size = await dialog.locator('img').first().boundingBox();
      expect(size?.width).toBeGreaterThan(300);
      await dialog.locator('button.close-dialog').click();
      await expect.poll(() => one.locator('dialog.crop-dialog').count()).toBe(0);

      // Passed to op-two as the officer on the ground: their phone shows the camera's face beside
      // the watchlist photo (it showed the watchlist photo alone).
      const opTwo = users.find((u) => u.username === 'op-two');
      await harness.call('POST', `/alerts/${first.id}/dispatch`, { officerId: opTwo?.id });
      await two.setViewportSize({ width: 390, height: 844 });
      await two.goto(`${system.url}/#/officer`);
      const officerCard = two.locator(`.officer-card[data-alert-id="${first.id}"]`);
      await officerCard.waitFor();
      expect(await officerCard.locator('img.probe').getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
      expect(await officerCard.locator('time.when').first().textContent()).toMatch(
        /^(just now|\d+ min ago)$/,
      );
      await harness.shots(two, '8-officer-crop-beside-photo');

      // A deployment without alerts says what is happening rather than showing nothing.
      const quiet = await createDeployment(system.db, 'Quiet deployment');
      await system.db.query("UPDATE deployments SET status = 'stopped' WHERE id = $1", [quiet.deploymentId]);
      await harness.call('POST', `/deployments/${quiet.deploymentId}/operators`, { userIds: ids });
      await one.goto(`${system.url}/#/operator?deployment=${quiet.deploymentId}`);
      await one.reload();
      await expect
        .poll(() => one.textContent('#alert-empty'))
        .toMatch(/^No alerts yet\. This deployment is stopped: no camera is being watched\./);
      await harness.shots(one, '7-operator-empty');

      // The phone layout: nothing wider than the screen.
      await two.setViewportSize({ width: 390, height: 844 });
      const overflow = await two.evaluate(() => {
        const page = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return page.document.documentElement.scrollWidth - page.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      expect(harness.cspViolations).toEqual([]);
    }, 180_000);

    it('counts the subjects of each watchlist, pages them and searches their names and notes (issue #23 watchlist manager)', async () => {
      await harness.createUser('manager', USER_PASSWORD, 'watchlist_manager');
      const list = await harness.call<{ id: string }>('POST', '/watchlists', { name: 'Thirty people' });
      for (let i = 1; i <= 30; i++)
        await harness.system.db.query(
          "INSERT INTO subjects (watchlist_id, label, category, priority, notes) VALUES ($1, $2, 'missing', 'amber', $3)",
          [list.id, `Subject ${String(i).padStart(2, '0')}`, i === 7 ? 'last seen by the river' : ''],
        );
      const p = await harness.page('manager');
      await harness.login(p, 'manager', USER_PASSWORD);
      await p.goto(`${harness.system.url}/#/watchlists`);
      const entry = p.locator(`li:has(button[data-watchlist="${list.id}"])`);
      await expect.poll(() => entry.locator('.subject-count').textContent()).toBe('30 subjects');
      await p.click(`button[data-watchlist="${list.id}"]`);
      const cards = p.locator('#subject-grid li[data-subject-id]');
      await expect.poll(() => cards.count()).toBe(24);
      expect(await p.textContent('#subjects-page')).toBe('Subjects 1-24');
      expect(await p.isDisabled('#subjects-previous')).toBe(true);
      await p.click('#subjects-next');
      await expect.poll(() => cards.count()).toBe(6);
      expect(await p.textContent('#subjects-page')).toBe('Subjects 25-30');
      expect(await p.isDisabled('#subjects-next')).toBe(true);

      await p.fill('#subject-search', 'river');
      await p.click('#subject-search-form button[type=submit]');
      await expect.poll(() => cards.count()).toBe(1);
      expect(await cards.first().textContent()).toContain('Subject 07');
      expect(await p.textContent('#subjects-page')).toBe('Matching “river”: 1-1');
      await harness.shots(p, '9-watchlist-search');
      await p.fill('#subject-search', 'nobody');
      await p.click('#subject-search-form button[type=submit]');
      await expect
        .poll(() => p.textContent('#subject-grid'))
        .toBe("No subject's name or notes contain “nobody”.");

      // A subject's photos with their quality in words.
      const enrolled = await harness.call<{ id: string }>('POST', '/watchlists', { name: 'Enrolled list' });
      const form = new FormData();
      form.append('label', 'Photo Person');
      form.append('category', 'wanted');
      form.append('priority', 'red');
      form.append(
        'image',
        new Blob([new Uint8Array(enrolmentImage(harness.dir))], { type: 'image/jpeg' }),
        'enrol.jpg',
      );
      const response = await fetch(`${harness.system.url}/api/v1/watchlists/${enrolled.id}/subjects`, {
        method: 'POST',
        headers: { authorization: `Bearer ${harness.adminToken}` },
        body: form,
      });
      expect(response.status).toBe(201);
      await p.reload();
      await p.click(`button[data-watchlist="${enrolled.id}"]`);
      await p.click('#subject-grid li[data-subject-id] .subject-photos-button');
      const photos = p.locator('dialog.subject-dialog .subject-photos > li');
      await expect.poll(() => photos.count()).toBe(1);
      const quality = await photos.first().locator('.quality li').allTextContents();
      expect(quality.some((line) => /^Eyes \d+ px apart/.test(line))).toBe(true);
      expect(quality.some((line) => /^Face found with \d+% confidence$/.test(line))).toBe(true);
      await expect.poll(() => photos.first().locator('img').getAttribute('src')).toMatch(/^blob:/);
      await harness.shots(p, '12-subject-photos');

      // The entry's label and priority changed from the same page; the card follows.
      await p.fill('#edit-label', 'Photo Person (edited)');
      await p.selectOption('#edit-priority', 'amber');
      await p.click('#edit-subject button[type=submit]');
      await expect.poll(() => p.textContent('#edit-status')).toBe('Saved.');
      await p.click('dialog.subject-dialog .close-dialog');
      await expect
        .poll(() => p.locator('#subject-grid li.subject.priority-amber strong').textContent())
        .toBe('Photo Person (edited)');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);

    it('gives an officer on the ground a phone view of what operators pass them, and nothing else (issue #23 officer)', async () => {
      const { system } = harness;
      const officer = await harness.createUser('officer-one', USER_PASSWORD, 'officer');
      const deployment = await createDeployment(system.db, 'Officer test deployment');
      await system.db.query("UPDATE deployments SET status = 'stopped' WHERE id = $1", [
        deployment.deploymentId,
      ]);
      const opOne = (await harness.call<{ id: string; username: string }[]>('GET', '/users')).find(
        (u) => u.username === 'op-one',
      );
      await harness.call('POST', `/deployments/${deployment.deploymentId}/operators`, {
        userIds: [opOne?.id, officer.id],
      });
      const cipher = loadDataCipher({
        dataKey: system.config.VIGIL_DATA_KEY,
        dataDir: system.config.dataDir,
      });
      const alert = await storeAlert(system.db, system.bus, cipher, deployment);

      const phone = await harness.page('officer-one', { width: 390, height: 844 });
      await harness.login(phone, 'officer-one', USER_PASSWORD);
      // The officer lands on their own view; the operators' views are not theirs.
      await expect
        .poll(() =>
          phone.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash),
        )
        .toBe('#/officer');
      expect(await phone.locator('nav a').allTextContents()).toEqual(['Officer', 'Account']);

      const operator = await harness.page('op-one-officer');
      await harness.login(operator, 'op-one', USER_PASSWORD);
      await operator.goto(`${system.url}/#/operator?deployment=${deployment.deploymentId}`);
      const card = operator.locator(`.alert-card[data-alert-id="${alert.id}"]`);
      await card.waitFor();
      await card.locator('select.officer').selectOption({ label: 'officer-one' });
      await card.locator('.dispatch-button').click();
      await expect.poll(() => card.locator('.action-status').textContent()).toBe('Passed to the officer.');

      const officerCard = phone.locator(`.officer-card[data-alert-id="${alert.id}"]`);
      await officerCard.waitFor({ timeout: 15_000 });
      expect(await officerCard.locator('img.probe').getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
      await officerCard.locator('button[data-outcome="engaged"]').click();
      await expect.poll(() => officerCard.locator('.outcome').textContent()).toBe('Engaged — officer-one');
      const overflow = await phone.evaluate(() => {
        const page = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number } };
          innerWidth: number;
        };
        return page.document.documentElement.scrollWidth - page.innerWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await harness.shots(phone, '10-officer-role');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);

    it('gives oversight statistics in words over a date range, and an audit trail with details, filters, paging and a CSV export (issue #23 oversight)', async () => {
      await harness.createUser('overseer', USER_PASSWORD, 'oversight');
      const p = await harness.page('overseer');
      const requests: string[] = [];
      p.on('request', (request) => requests.push(request.url()));
      await harness.login(p, 'overseer', USER_PASSWORD);
      await p.click('nav a[href="#/oversight"]');
      const figures = p.locator('#overall-stats table');
      await figures.waitFor();
      const labels = await figures.locator('th').allTextContents();
      expect(labels).toContain('Faces compared with the watchlist');
      // No internal field names (camelCase, snake_case), no identifiers.
      for (const cell of await figures.locator('th, td').allTextContents())
        expect(cell).not.toMatch(/\b[a-z]+[A-Z][a-zA-Z]*\b|\w_\w|[0-9a-f]{8}-[0-9a-f]{4}-/);

      await p.fill('#stats-from', '2026-01-01');
      await p.fill('#stats-to', '2026-12-31');
      await p.click('#stats-range button[type=submit]');
      await expect
        .poll(() => requests.some((url) => url.includes('/oversight/stats?from=2026-01-01&to=2027-01-01')))
        .toBe(true);

      const rows = p.locator('#audit-trail tbody tr');
      await expect.poll(() => rows.count()).toBeGreaterThan(0);
      await p.fill('#audit-who', 'admin');
      await p.selectOption('#audit-what', 'user.create');
      await p.click('#audit-filters button[type=submit]');
      await expect
        .poll(async () => [
          ...new Set(
            await rows.evaluateAll((all) =>
              all.map((r) => (r as unknown as { dataset: { action: string } }).dataset.action),
            ),
          ),
        ])
        .toEqual(['user.create']);
      const first = await rows.first().textContent();
      expect(first).toContain('created a user');
      // Who was created, and with which role, in the details.
      expect(first).toContain('user overseer');
      expect(first).toContain('role: oversight');
      await harness.shots(p, '11-oversight-audit');

      const [download] = await Promise.all([p.waitForEvent('download'), p.click('#audit-export')]);
      expect(download.suggestedFilename()).toMatch(/^vigil-audit-\d{4}-\d{2}-\d{2}\.csv$/);
      const csv = fs.readFileSync((await download.path()) ?? '', 'utf8');
      const lines = csv.trim().split('\r\n');
      expect(lines[0]).toBe('id,time,who,what,action,target type,target,details');
      expect(lines.length - 1).toBe(await rows.count());
      expect(lines[1]).toContain('created a user');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);
  },
);
