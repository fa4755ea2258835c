/**
 * Issue #21 item 4 in headless Chromium: where an admin sets a new deployment's threshold, the
 * console says how many false alerts to expect per 1,000 faces at that threshold for the size of the
 * lists chosen, from the false match rates `GET /model` serves (the default profile's own here).
 */
import fs from 'node:fs';
import { backendName } from '@vigil/core/testing';
import { DEFAULT_FALSE_MATCH_RATES } from '@vigil/face-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'expected false alerts admin password';
/** Entries on the list: large enough that the expected false alerts are well above zero. */
const ENTRIES = 2000;

/** The profile's rate at the highest measured threshold at or below `threshold`. */
function rateAt(threshold: number): number {
  const points = DEFAULT_FALSE_MATCH_RATES.points.filter((p) => p.threshold <= threshold + 1e-9);
  return points[points.length - 1]?.fmr ?? Number.NaN;
}

describe.runIf(fs.existsSync(CHROMIUM))(
  `console: expected false alerts where a threshold is set (${backendName})`,
  () => {
    let harness: ConsoleHarness;

    beforeAll(async () => {
      harness = await startConsoleHarness({
        artifacts: 'browser/expected-false-alerts',
        adminPassword: ADMIN_PASSWORD,
      });
      const { db } = harness.system;
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO watchlists (name) VALUES ('Large list') RETURNING id`,
      );
      await db.query(
        `INSERT INTO subjects (watchlist_id, label, category, priority)
       SELECT $1, 'Entry ' || n, 'wanted', 'amber' FROM generate_series(1, $2::int) AS n`,
        [rows[0]?.id, ENTRIES],
      );
    }, 240_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('says the false alerts per 1,000 faces for the threshold and the lists chosen, and follows both', async () => {
      const p = await harness.page('expected-false-alerts');
      await harness.login(p, 'admin', ADMIN_PASSWORD);
      await p.click('nav a[href="#/deployments"]');
      const hint = p.locator('#expected-false-alerts');
      const threshold = p.locator('#new-deployment-threshold');
      await expect.poll(() => threshold.inputValue(), { timeout: 20_000 }).toBe('0.56');
      // No list chosen yet: nobody to falsely match.
      await expect
        .poll(() => hint.textContent(), { timeout: 20_000 })
        .toContain('with 0 entries: about 0 per 1,000');

      await p.check('#new-deployment-watchlists input[type=checkbox]');
      const per1000 = (t: number) => Number((1000 * (1 - (1 - rateAt(t)) ** ENTRIES)).toPrecision(2));
      await expect
        .poll(() => hint.textContent(), { timeout: 10_000 })
        .toContain(
          `Expected false alerts at 0.56 with 2,000 entries: about ${per1000(0.56)} per 1,000 faces seen`,
        );
      expect(await hint.textContent()).toContain("the model profile's own figures");
      expect(per1000(0.56)).toBeGreaterThan(0);

      // A lower threshold: more false alerts, said at once.
      await threshold.fill('0.5');
      await expect
        .poll(() => hint.textContent(), { timeout: 10_000 })
        .toContain(`about ${per1000(0.5)} per 1,000`);
      expect(per1000(0.5)).toBeGreaterThan(per1000(0.56));
      await harness.shots(p, 'deployments-threshold');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);
  },
);
