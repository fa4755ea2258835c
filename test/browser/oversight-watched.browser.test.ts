/**
 * Issue #26 item 6 in headless Chromium: the Oversight view says in words how much of what the
 * cameras saw was analysed, and why the rest was not. Screenshots at desktop and phone size go to
 * `test-artifacts/browser/oversight-watched/`.
 */
import fs from 'node:fs';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeployment } from '../../services/api/test/realtime-fixtures.js';
import { CHROMIUM, type ConsoleHarness, startConsoleHarness } from './console.fixture.js';

const ADMIN_PASSWORD = 'oversight watched test admin password';

describe.runIf(fs.existsSync(CHROMIUM))(
  `console: how much of a deployment was watched (${backendName})`,
  () => {
    let harness: ConsoleHarness;

    beforeAll(async () => {
      harness = await startConsoleHarness({
        artifacts: 'browser/oversight-watched',
        adminPassword: ADMIN_PASSWORD,
      });
      const { db } = harness.system;
      const { deploymentId, cameraId } = await createDeployment(db, 'Station forecourt');
      // Ended, so no ingest opens the fixture's camera; its counts are what ingest and the detectors wrote.
      await db.query(
        `UPDATE deployments SET status = 'stopped', started_at = now() - interval '2 hours', stopped_at = now() WHERE id = $1`,
        [deploymentId],
      );
      await db.query(
        `INSERT INTO deployment_counters (deployment_id, camera_id, hour, frames_read, frames, faces_processed)
       VALUES ($1, $2, date_trunc('hour', now() - interval '1 hour'), 12000, 9000, 400)`,
        [deploymentId, cameraId],
      );
      await db.query(
        `INSERT INTO deployment_frames_not_analysed (deployment_id, camera_id, hour, reason, frames)
       VALUES ($1, $2, date_trunc('hour', now() - interval '1 hour'), 'publish_failed', 2400),
              ($1, $2, date_trunc('hour', now() - interval '1 hour'), 'detector_unavailable', 600)`,
        [deploymentId, cameraId],
      );
    }, 240_000);

    afterAll(async () => {
      await harness?.stop();
    });

    it('says what share of the frames read was analysed, and why the rest was not', async () => {
      const p = await harness.page('oversight-watched');
      await harness.login(p, 'admin', ADMIN_PASSWORD);
      await p.click('nav a[href="#/oversight"]');
      const sentence = await p.waitForSelector('#overall-stats .watched');
      expect(await sentence.textContent()).toBe(
        'Watched: 75% of the 12,000 frames the cameras gave were analysed. Not analysed: 2,400 while the message bus was down; 600 with no face detector running.',
      );
      await harness.shots(p, 'oversight');
      expect(harness.cspViolations).toEqual([]);
    }, 120_000);
  },
);
