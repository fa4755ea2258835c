/**
 * The officer on the ground and the console on a phone (issue #23), in headless Chromium against the
 * whole system: an officer acknowledges an alert passed to them and sets off while the operator
 * watches; a purged deployment leaves the officer's phone; and every view each role can reach fits a
 * phone's width. Screenshots go to `test-artifacts/browser/officer-phone/`.
 */
import fs from 'node:fs';
import { backendName } from '@vigil/core/testing';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignOperator, storeAlert } from '../../services/api/test/realtime-fixtures.js';
import { enrolmentImage } from '../pipeline/pipeline.fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'officer phone admin password';
const USER_PASSWORD = 'officer phone user password 42';
/** A small phone: what the console must fit without scrolling sideways. */
const SMALL_PHONE = { width: 375, height: 740 };
const LIVE = { timeout: 15_000 };

/** Everything on the page that reaches past the viewport's right or left edge, as `tag#id.class` (or []). */
function overflowing(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    // The page's DOM (this file is typed for Node, without the DOM library).
    type Box = { left: number; right: number; width: number; height: number };
    type El = {
      tagName: string;
      id: string;
      className: unknown;
      getBoundingClientRect(): Box;
      closest(selector: string): unknown;
    };
    const page = globalThis as unknown as {
      innerWidth: number;
      document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): El[] };
    };
    const width = page.innerWidth;
    const found: string[] = [];
    if (page.document.documentElement.scrollWidth > width)
      found.push(`document ${page.document.documentElement.scrollWidth}px wide`);
    for (const el of page.document.querySelectorAll('body *')) {
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || el.closest('[hidden], dialog:not([open])')) continue;
      if (box.right > width + 0.5 || box.left < -0.5 || box.width > width)
        found.push(
          `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className ? `.${el.className.split(' ').join('.')}` : ''} ${Math.round(box.left)}..${Math.round(box.right)}`,
        );
    }
    return found;
  });
}

describe.runIf(fs.existsSync(CHROMIUM))(
  `the officer on a phone in headless Chromium (${backendName})`,
  () => {
    let harness: ConsoleHarness;
    let officerId: string;
    let operatorId: string;

    async function as(username: string, password = USER_PASSWORD, viewport = SMALL_PHONE): Promise<Page> {
      const p = await harness.page(username, viewport);
      await harness.login(p, username, password);
      return p;
    }

    beforeAll(async () => {
      harness = await startConsoleHarness({
        artifacts: 'browser/officer-phone',
        adminPassword: ADMIN_PASSWORD,
      });
      officerId = (await harness.createUser('officer-phone', USER_PASSWORD, 'officer')).id;
      operatorId = (await harness.createUser('op-desk', USER_PASSWORD, 'operator')).id;
    }, 240_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('lets the officer an alert was passed to acknowledge it and set off from their phone, and the operator sees both at once', async () => {
      const { deployment, cipher } = await harness.stoppedDeployment('Officer phone deployment');
      await harness.call('POST', `/deployments/${deployment.deploymentId}/operators`, {
        userIds: [operatorId, officerId],
      });
      // A real face as the camera's crop, so the screenshots show what an officer sees.
      const probe = enrolmentImage(harness.dir);
      const alert = await storeAlert(harness.system.db, harness.system.bus, cipher, deployment, { probe });

      const phone = await as('officer-phone');
      await phone.waitForSelector('#officer-alerts');
      const desk = await as('op-desk', USER_PASSWORD, { width: 1280, height: 800 });
      await desk.goto(`${harness.system.url}/#/operator?deployment=${deployment.deploymentId}`);
      const card = desk.locator(`.alert-card[data-alert-id="${alert.id}"]`);
      await card.waitFor();
      await desk.waitForSelector('#connection[data-state="connected"]');
      await card.locator('select.officer').selectOption({ label: 'officer-phone' });
      await card.locator('.dispatch-button').click();
      const line = card.locator('.dispatch-progress');
      await expect
        .poll(() => line.textContent(), LIVE)
        .toMatch(/^Passed to officer-phone just now · not acknowledged yet$/);

      const officerCard = phone.locator(`.officer-card[data-alert-id="${alert.id}"]`);
      await officerCard.waitFor(LIVE);
      // The camera's face beside the watchlist photo.
      expect(await officerCard.locator('.faces img.probe').getAttribute('src')).toMatch(
        /^data:image\/jpeg;base64,/,
      );
      expect(await officerCard.locator('.faces figcaption').allTextContents()).toEqual([
        'Camera',
        'Watchlist',
      ]);
      const shown = await officerCard
        .locator('.faces img.probe')
        .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
      expect(shown).toBeGreaterThan(0);
      expect(await officerCard.locator('.progress-text').textContent()).toBe('Not acknowledged yet');
      await harness.shot(phone, '1-officer-passed-phone');

      await officerCard.locator('button[data-step="acknowledged"]').click();
      await expect
        .poll(() => officerCard.locator('.progress-text').textContent())
        .toBe('Acknowledged just now');
      await expect
        .poll(() => line.textContent(), LIVE)
        .toBe('Passed to officer-phone just now · Acknowledged by officer-phone just now');
      await officerCard.locator('button[data-step="en_route"]').click();
      await expect
        .poll(() => officerCard.locator('.progress-text').textContent())
        .toBe('Acknowledged just now · En route just now');
      expect(await officerCard.locator('.step-button').count()).toBe(0);
      await expect
        .poll(() => line.textContent(), LIVE)
        .toBe(
          'Passed to officer-phone just now · Acknowledged by officer-phone just now · En route just now',
        );
      // Times are relative, with the clock time on hover.
      expect(await line.locator('time').count()).toBe(3);
      await harness.shot(phone, '2-officer-en-route-phone');
      await harness.shots(desk, '3-operator-sees-en-route');

      // A console opened afterwards reads the same from the alert list.
      const later = await as('op-desk', USER_PASSWORD, { width: 1280, height: 800 });
      await later.goto(`${harness.system.url}/#/operator?deployment=${deployment.deploymentId}`);
      await expect
        .poll(
          () => later.locator(`.alert-card[data-alert-id="${alert.id}"] .dispatch-progress`).textContent(),
          LIVE,
        )
        .toContain('Acknowledged by officer-phone just now · En route just now');
      expect(await overflowing(phone)).toEqual([]);
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);

    it("drops a purged deployment's alerts from the officer's phone and says why; an outcome recorded leaves no step to take", async () => {
      const { db } = harness.system;
      const { deployment: kept, cipher } = await harness.stoppedDeployment('Officer kept deployment');
      const { deployment: refused, request } = await harness.undecidedDeployment(
        'Officer refused deployment',
      );
      for (const deployment of [kept, refused]) {
        await assignOperator(db, deployment.deploymentId, officerId);
        const alert = await storeAlert(db, harness.system.bus, cipher, deployment);
        await harness.call('POST', `/alerts/${alert.id}/dispatch`, { officerId });
      }
      const phone = await as('officer-phone');
      const cards = phone.locator('.officer-card');
      // Two here, and the one of the first test.
      await expect.poll(() => cards.count(), LIVE).toBe(3);

      await harness.decide(request.id, 'refused', 'Not proportionate for this operation');
      await expect.poll(() => cards.count(), LIVE).toBe(2);
      expect(await phone.textContent('#purged-notice')).toContain(
        'The authorising officer refused a deployment.',
      );
      expect(await phone.locator('.officer-card h3').allTextContents()).not.toContain(
        'Officer refused deployment',
      );
      await harness.shot(phone, '4-officer-purged-phone');

      // An outcome recorded without acknowledging first: the person was dealt with, no step is left.
      const waiting = await cards
        .filter({ has: phone.locator('button[data-step="acknowledged"]') })
        .first()
        .getAttribute('data-dispatch-id');
      const card = phone.locator(`.officer-card[data-dispatch-id="${waiting}"]`);
      await card.locator('button[data-outcome="engaged"]').click();
      await expect.poll(() => card.locator('.outcome').textContent()).toBe('Engaged — officer-phone');
      expect(await card.locator('.step-button').count()).toBe(0);
      expect(await card.locator('.progress-text').textContent()).toBe('');
    }, 120_000);

    it('fits every view each role can reach on a 375 px phone, without scrolling sideways', async () => {
      const { db } = harness.system;
      const { deployment, cipher } = await harness.stoppedDeployment('Phone width deployment');
      await storeAlert(db, harness.system.bus, cipher, deployment);
      for (const role of ['watchlist_manager', 'oversight', 'authoriser'])
        await harness.createUser(`phone-${role}`, USER_PASSWORD, role);
      await assignOperator(db, deployment.deploymentId, operatorId);
      const users: [string, string][] = [
        ['admin', ADMIN_PASSWORD],
        ['op-desk', USER_PASSWORD],
        ['officer-phone', USER_PASSWORD],
        ['phone-watchlist_manager', USER_PASSWORD],
        ['phone-oversight', USER_PASSWORD],
        ['phone-authoriser', USER_PASSWORD],
      ];
      const found: Record<string, string[]> = {};
      const seen = new Set<string>();
      for (const [username, password] of users) {
        const p = await as(username, password);
        const views = await p
          .locator('nav a')
          .evaluateAll((links) =>
            links.map((a) => (a as unknown as { getAttribute(n: string): string }).getAttribute('href')),
          );
        for (const view of views) {
          await p.click(`nav a[href="${view}"]`);
          await p.waitForTimeout(1500);
          // The admin's deployments: one opened as well, with its cameras and people.
          if (view === '#/deployments' && username === 'admin') {
            await p.click('button[data-deployment]:has-text("Phone width deployment")');
            await p.waitForTimeout(1000);
          }
          const problems = await overflowing(p);
          if (problems.length > 0) found[`${username} ${view}`] = problems.slice(0, 8);
          seen.add(view);
          await harness.shot(p, `phone-${username}-${view.replace('#/', '')}`);
        }
      }
      expect([...seen].sort()).toEqual(
        [
          '#/account',
          '#/authorisations',
          '#/deployments',
          '#/officer',
          '#/operator',
          '#/oversight',
          '#/users',
          '#/watchlists',
        ].sort(),
      );
      expect(found).toEqual({});
    }, 240_000);
  },
);
