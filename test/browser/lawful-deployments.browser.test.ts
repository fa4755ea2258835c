import fs from 'node:fs';
import path from 'node:path';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_THRESHOLD, enrolmentImage } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, dropFiles, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'lawful deployments admin password';
const USER_PASSWORD = 'lawful deployments user password 42';
/** A server round trip and the view's redraw; generous, as the test machine is shared. */
const WAIT = { timeout: 15_000 };

/** A `datetime-local` value for now + `minutes`, in this machine's (and the browser's) time zone. */
function localInput(minutes: number): string {
  const date = new Date(Date.now() + minutes * 60_000);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

// Issue 24 items 1-2 in the console: the watchlist manager records provenance, a second manager
// approves, the admin asks for authorisation, the authorising officer sees the make-up with what is
// left out and why, and grants with reasons; the deployment starts with the make-up recorded.
describe.runIf(fs.existsSync(CHROMIUM))(`lawful deployments in the console (${backendName})`, () => {
  let harness: ConsoleHarness;
  let photo: string;

  beforeAll(async () => {
    harness = await startConsoleHarness({
      artifacts: 'browser/lawful-deployments',
      adminPassword: ADMIN_PASSWORD,
    });
    photo = path.join(harness.dir, 'enrol.jpg');
    fs.writeFileSync(photo, enrolmentImage(harness.dir));
    for (const [username, role] of [
      ['manager', 'watchlist_manager'],
      ['manager-two', 'watchlist_manager'],
      ['officer-a', 'authoriser'],
    ] as const)
      await harness.createUser(username, USER_PASSWORD, role);
  }, 240_000);

  afterAll(async () => {
    await harness?.stop();
  });

  it('records provenance, approves by a second person, asks for and grants authorisation with reasons, then starts', async () => {
    // The manager enrols with why, where the image came from and when, and a review date.
    const manager = await harness.page('manager');
    await harness.login(manager, 'manager', USER_PASSWORD);
    await manager.waitForSelector('#create-watchlist');
    await manager.fill('#new-watchlist-name', 'Op Granite');
    await manager.click('#create-watchlist button[type=submit]');
    await manager.click('button[data-watchlist]');
    await manager.fill('#subject-label', 'Granite Person');
    await manager.selectOption('#subject-priority', 'red');
    expect(await manager.getAttribute('#subject-reason', 'placeholder')).toContain('warrant');
    await manager.fill('#subject-reason', 'Wanted on warrant for robbery, ref W/2026/114');
    await manager.fill('#subject-source', 'Custody image, ref CUST/5521');
    await manager.fill('#subject-image-date', day(-20));
    await manager.fill('#subject-review-by', day(30));
    await dropFiles(manager, [
      { name: 'enrol.jpg', type: 'image/jpeg', base64: fs.readFileSync(photo).toString('base64') },
    ]);
    await manager.waitForSelector('#image-verdicts li');
    await manager.click('#enrol-form button[type=submit]');
    const card = manager.locator('#subject-grid li[data-subject-id]').first();
    await card.waitFor({ timeout: 60_000 });
    const provenance = card.locator('.provenance');
    expect(await provenance.getAttribute('data-approved')).toBe('no');
    expect(await provenance.textContent()).toContain('Wanted on warrant for robbery');
    expect(await provenance.textContent()).toContain(`Custody image, ref CUST/5521, taken ${day(-20)}`);
    expect(await provenance.textContent()).toContain('Added by manager');
    // Who added an entry cannot approve it: no button for them.
    expect(await card.locator('button.approve').count()).toBe(0);
    await harness.shots(manager, '1-manager-provenance');

    // A second watchlist, same photo, never approved: it will be left out.
    const unreviewed = await harness.call<{ id: string }>('POST', '/watchlists', { name: 'Unreviewed' });
    const form = new FormData();
    form.append('label', 'Unapproved Person');
    form.append('category', 'suspect');
    form.append('priority', 'amber');
    form.append('image', new Blob([fs.readFileSync(photo)], { type: 'image/jpeg' }), 'enrol.jpg');
    const enrolled = await fetch(`${harness.system.url}/api/v1/watchlists/${unreviewed.id}/subjects`, {
      method: 'POST',
      headers: { authorization: `Bearer ${harness.adminToken}` },
      body: form,
    });
    expect(enrolled.status).toBe(201);

    // A second manager approves.
    const second = await harness.page('manager-two');
    await harness.login(second, 'manager-two', USER_PASSWORD);
    await second.click('button[data-watchlist]:has-text("Op Granite")');
    await second.click('#subject-grid button.approve');
    const approved = second.locator('#subject-grid .provenance').first();
    await expect.poll(() => approved.getAttribute('data-approved'), WAIT).toBe('yes');
    expect(await approved.textContent()).toContain('Approved by manager-two');
    await harness.shots(second, '2-second-manager-approved');

    // The admin creates the deployment with its terms and asks for authorisation.
    const admin = await harness.page('admin');
    await harness.login(admin, 'admin', ADMIN_PASSWORD);
    await admin.goto(`${harness.system.url}/#/deployments`);
    await admin.waitForSelector('#new-deployment-watchlists input[type=checkbox]');
    await admin.fill('#new-deployment-name', 'Granite high street');
    await admin.fill('#new-deployment-location', 'High Street, outside the station');
    await admin.fill('#new-deployment-purpose', 'Locate people wanted on warrant for violent offences');
    await admin.fill('#new-deployment-legal-basis', 'Common law policing powers; DPA 2018 s.35');
    await admin.fill('#new-deployment-starts-at', localInput(-5));
    await admin.fill('#new-deployment-ends-at', localInput(120));
    await admin.fill('#new-deployment-threshold', String(E2E_THRESHOLD));
    for (const box of await admin.locator('#new-deployment-watchlists input[type=checkbox]').all())
      await box.check();
    await admin.click('#create-deployment button[type=submit]');
    await admin.click('button[data-deployment]:has-text("Granite high street")');
    await admin.waitForSelector('#request-authorisation');
    expect(await admin.getAttribute('#authorisation-status', 'data-status')).toBe('none');
    await admin.click('#start-deployment');
    await admin.click('#start-anyway');
    await expect
      .poll(() => admin.textContent('#deployment-feedback'), WAIT)
      .toMatch(/authorising officer must grant/);
    await admin.click('#request-authorisation');
    await expect.poll(() => admin.getAttribute('#authorisation-status', 'data-status'), WAIT).toBe('pending');
    const asked = admin.locator('#request-composition');
    await asked.waitFor();
    expect(await asked.locator('[data-count=subjects]').textContent()).toBe('1');
    expect(await asked.locator('[data-count=excluded]').textContent()).toBe(
      '1 not approved by a second person',
    );
    await harness.shots(admin, '3-admin-asked');

    // The authorising officer lands on the requests awaiting a decision.
    const officer = await harness.page('officer-a');
    await harness.login(officer, 'officer-a', USER_PASSWORD);
    const request = officer.locator('#pending-authorisations [data-authorisation-id]');
    await request.waitFor();
    expect(await request.textContent()).toContain('Locate people wanted on warrant for violent offences');
    expect(await request.textContent()).toContain('Common law policing powers; DPA 2018 s.35');
    expect(await request.locator('[data-count=excluded]').textContent()).toBe(
      '1 not approved by a second person',
    );
    expect(await request.textContent()).not.toContain('Granite Person');
    await harness.shots(officer, '4-authoriser-pending');
    await request.locator('button[data-decision=granted]').click();
    await expect
      .poll(() => officer.textContent('#authorisation-feedback'), WAIT)
      .toBe('Give your reasons before deciding.');
    await request
      .locator('textarea')
      .fill('Necessary and proportionate: three robberies at this station in May');
    await request.locator('button[data-decision=granted]').click();
    const decided = officer.locator('#decided-authorisations [data-authorisation-id]').first();
    await decided.waitFor();
    expect(await decided.getAttribute('class')).toContain('status-granted');
    expect(await decided.textContent()).toContain('Authorised by officer-a');
    expect(await officer.locator('#pending-authorisations [data-authorisation-id]').count()).toBe(0);
    await harness.shots(officer, '5-authoriser-granted');

    // The admin starts it: the make-up is recorded, numbers only.
    await admin.click('button[data-deployment]:has-text("Granite high street")');
    await expect.poll(() => admin.getAttribute('#authorisation-status', 'data-status'), WAIT).toBe('granted');
    await admin.click('#start-deployment');
    await admin.click('#start-anyway');
    await expect.poll(() => admin.textContent('#deployment-feedback'), WAIT).toBe('Deployment started.');
    await expect.poll(() => admin.textContent('#deployment-status'), WAIT).toBe('running');
    const atStart = admin.locator('#deployment-composition');
    await atStart.waitFor();
    expect(await atStart.locator('[data-count=subjects]').textContent()).toBe('1');
    await harness.shots(admin, '6-admin-running');
    expect(harness.cspViolations).toEqual([]);
  }, 300_000);
});
