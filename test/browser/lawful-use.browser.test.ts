/**
 * Issue #24 items 3 and 5 in headless Chromium against the whole system: operators see who has
 * verified an alert of a two-person deployment and who is awaited; oversight reads the published
 * record, downloads it as CSV and JSON, prints it, and downloads a deployment's evidence pack.
 * Screenshots at desktop and phone size go to `test-artifacts/browser/lawful-use/`.
 */
import fs from 'node:fs';
import { backendName } from '@vigil/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignOperator,
  createDeployment,
  type TestDeployment,
} from '../../services/api/test/realtime-fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'lawful use test admin password';
const USER_PASSWORD = 'lawful use test user password 42';
/** Waits for a server round trip and a redraw; generous, as the test machine is shared. */
const SLOW = { timeout: 20_000 };
/**
 * What another operator did reaches a console over socket.io; the view polled every 5 s before, so a
 * wait shorter than that shows the live event did it.
 */
const LIVE = { timeout: 4_000 };

describe.runIf(fs.existsSync(CHROMIUM))(
  `console: two-person verification and published record (${backendName})`,
  () => {
    let harness: ConsoleHarness;
    let deployment: TestDeployment;
    let alertId: string;
    let firstOperatorId: string;

    async function as(username: string): Promise<Page> {
      const p = await harness.page(username);
      await harness.login(p, username, USER_PASSWORD);
      return p;
    }

    async function openOperator(p: Page): Promise<void> {
      await p.click('nav a[href="#/operator"]');
      await p.selectOption('#deployment-picker', deployment.deploymentId);
      await p.waitForSelector(`.alert-card[data-alert-id="${alertId}"] .verification`);
    }

    /** An alert of the deployment as the matcher stores it, without a crop. Returns its id. */
    async function insertAlert(on: TestDeployment, dedupeKey: string): Promise<string> {
      const alert = await harness.system.db.query<{ id: string }>(
        `INSERT INTO alerts (deployment_id, camera_id, subject_id, track_id, label, category, priority, score, threshold,
                           captured_at, dedupe_key, published_at)
       VALUES ($1, $2, $3, $4, 'Jane Roe', 'wanted', 'red', 0.71, 0.5, now(), $4, now())
       RETURNING id::text AS id`,
        [on.deploymentId, on.cameraId, on.subjectId, dedupeKey],
      );
      return alert.rows[0]!.id;
    }

    const verificationOf = (p: Page) =>
      p.textContent(`.alert-card[data-alert-id="${alertId}"] .verification`);

    beforeAll(async () => {
      harness = await startConsoleHarness({ artifacts: 'browser/lawful-use', adminPassword: ADMIN_PASSWORD });
      const { db } = harness.system;
      const first = await harness.createUser('op-first', USER_PASSWORD, 'operator');
      firstOperatorId = first.id;
      const second = await harness.createUser('op-second', USER_PASSWORD, 'operator');
      await harness.createUser('oversight-officer', USER_PASSWORD, 'oversight');
      deployment = await createDeployment(db, 'Market Square operation');
      await db.query(`UPDATE deployments SET started_at = now() - interval '1 hour' WHERE id = $1`, [
        deployment.deploymentId,
      ]);
      for (const user of [first, second]) await assignOperator(db, deployment.deploymentId, user.id);
      await harness.call('PUT', `/deployments/${deployment.deploymentId}/verification`, { required: true });
      // Ended, so no ingest tries the fixture's camera; its alerts are still verified after the end.
      await db.query(`UPDATE deployments SET status = 'stopped', stopped_at = now() WHERE id = $1`, [
        deployment.deploymentId,
      ]);
      alertId = await insertAlert(deployment, 'browser-lawful-1');
    }, 240_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('shows each operator who has verified an alert and who is awaited, until two have confirmed it, live on every console', async () => {
      const first = await as('op-first');
      await openOperator(first);
      const second = await as('op-second');
      await openOperator(second);
      await second.waitForSelector('#connection[data-state="connected"]');
      await first.waitForSelector('#connection[data-state="connected"]');
      expect(await first.isVisible('#two-person-badge')).toBe(true);
      expect(await verificationOf(first)).toContain('Nobody has yet');
      await first.click(`.alert-card[data-alert-id="${alertId}"] button[data-outcome="confirmed"]`);
      await expect.poll(() => verificationOf(first), SLOW).toContain('Confirmed by op-first');
      // Who is awaited: the deployment's other operator.
      expect(await verificationOf(first)).toContain('Waiting for a second operator (op-second)');
      // The second operator's open card says so at once, without reloading or waiting for a poll.
      await expect.poll(() => verificationOf(second), LIVE).toContain('Confirmed by op-first');
      await harness.shots(first, 'operator-waiting');

      // The same operator again is refused in words.
      await first.click(`.alert-card[data-alert-id="${alertId}"] button[data-outcome="confirmed"]`);
      await expect
        .poll(() => first.textContent(`.alert-card[data-alert-id="${alertId}"] .action-status`), SLOW)
        .toContain('a different operator must confirm it');

      await second.click(`.alert-card[data-alert-id="${alertId}"] button[data-outcome="confirmed"]`);
      await expect.poll(() => verificationOf(second), SLOW).toContain('Verified by op-first');
      expect(await verificationOf(second)).toContain('op-second');
      await expect
        .poll(() => second.textContent(`.alert-card[data-alert-id="${alertId}"] .outcome`), SLOW)
        .toContain('Confirmed — op-second');
      // The first operator's screen shows the second confirmation as soon as it is recorded.
      await expect.poll(() => verificationOf(first), LIVE).toContain('may be acted on');
      await harness.shots(second, 'operator-verified');
    }, 60_000);

    it('lets an administrator require two-person verification on a deployment before it starts', async () => {
      const planned = await createDeployment(harness.system.db, 'Station forecourt operation');
      await harness.system.db.query(`UPDATE deployments SET status = 'planned' WHERE id = $1`, [
        planned.deploymentId,
      ]);
      const p = await harness.page('admin');
      await harness.login(p, 'admin', ADMIN_PASSWORD);
      await p.goto(`${harness.system.url}/#/deployments`);
      await p.click('button[data-deployment]:has-text("Station forecourt operation")');
      const box = p.locator('#two-person-setting');
      await expect
        .poll(() => p.textContent('#two-person-note'), SLOW)
        .toContain('Off: one operator confirms an alert.');
      expect(await box.isChecked()).toBe(false);
      await box.check();
      await expect.poll(() => p.textContent('#two-person-note'), SLOW).toContain('two different operators');
      const policy = await harness.call<{ required: boolean }>(
        'GET',
        `/deployments/${planned.deploymentId}/verification`,
      );
      expect(policy.required).toBe(true);
      await harness.shots(p, 'admin-two-person-setting');
    }, 60_000);

    it('gives oversight the published record with CSV and JSON downloads, a printable page and the evidence pack', async () => {
      const p = await as('oversight-officer');
      await p.click('nav a[href="#/oversight"]');
      const row = p.locator(`#published-record tr[data-deployment="${deployment.deploymentId}"]`);
      await row.waitFor();
      const text = (await row.textContent()) ?? '';
      expect(text).toContain('High Street');
      expect(text).not.toContain('Jane Roe');
      await harness.shots(p, 'oversight-published-record');

      const [csv] = await Promise.all([p.waitForEvent('download'), p.click('#record-csv')]);
      const csvText = fs.readFileSync((await csv.path()) as string, 'utf8');
      expect(csvText.split('\r\n')[0]).toContain('faces_seen');
      expect(csvText).toContain(deployment.deploymentId);
      const [json] = await Promise.all([p.waitForEvent('download'), p.click('#record-json')]);
      const period = JSON.parse(fs.readFileSync((await json.path()) as string, 'utf8'));
      expect(period.deployments.map((d: { deploymentId: string }) => d.deploymentId)).toContain(
        deployment.deploymentId,
      );

      const [pack] = await Promise.all([
        p.waitForEvent('download'),
        row.locator('button.evidence-pack').click(),
      ]);
      expect(pack.suggestedFilename()).toBe(`evidence-pack-${deployment.deploymentId}.json`);
      const evidence = JSON.parse(fs.readFileSync((await pack.path()) as string, 'utf8'));
      expect(evidence).toMatchObject({
        kind: 'vigil.evidence-pack',
        statistics: { twoPersonVerification: true },
      });
      expect(evidence.audit.verification.ok).toBe(true);
      expect(evidence.useLog.entries.map((e: { event: string }) => e.event)).toContain('verification');
      await expect
        .poll(() => p.textContent('#record-feedback'), SLOW)
        .toContain('Evidence pack of Market Square operation');

      // Printed, the page is the record alone.
      await p.emulateMedia({ media: 'print' });
      expect(await p.isVisible('#published-record table')).toBe(true);
      expect(await p.isVisible('#audit')).toBe(false);
      expect(await p.isVisible('nav')).toBe(false);
      await harness.shot(p, 'oversight-print');
      await p.emulateMedia({ media: 'screen' });
      expect(harness.cspViolations).toEqual([]);
    }, 60_000);

    it("takes a deployment's alerts off an operator's screen, saying why, when its authorisation is refused", async () => {
      const { db } = harness.system;
      const { deployment: refused, request } = await harness.undecidedDeployment(
        'Station approach operation',
      );
      await assignOperator(db, refused.deploymentId, firstOperatorId);
      const purgedAlertId = await insertAlert(refused, 'browser-lawful-purged');
      const p = await as('op-first');
      await p.click('nav a[href="#/operator"]');
      await p.selectOption('#deployment-picker', refused.deploymentId);
      await p.waitForSelector(`.alert-card[data-alert-id="${purgedAlertId}"]`);
      await p.waitForSelector('#connection[data-state="connected"]');
      expect(await p.isVisible('#purged-notice')).toBe(false);
      // Regression: the two-person badge showed on every deployment (its display beat `hidden`).
      expect(await p.isVisible('#two-person-badge')).toBe(false);

      await harness.decide(request.id, 'refused', 'Not proportionate for this operation');
      await expect.poll(() => p.locator('.alert-card').count(), LIVE).toBe(0);
      expect(await p.textContent('#purged-notice')).toContain(
        'The authorising officer refused this deployment',
      );
      expect(await p.textContent('#purged-notice')).toContain('alerts and face images have been deleted');
      await harness.shots(p, 'operator-purged');
    }, 60_000);
  },
);
