import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONSOLE_DIST } from '@vigil/api';
import { chromium } from 'playwright-core';
import type { Benchmark, BenchmarkContext, BenchmarkOutcome } from '../harness/benchmark.js';
import { round, summarise } from '../harness/statistics.js';
import { LiveSystem, makeVideo } from './live-system.js';
import { faceCrop, largestSampleFaces, samplePhotos, toFrame } from './sample-frames.js';

/** Debian's Chromium, driven by playwright-core (no browser download). */
const CHROMIUM = '/usr/bin/chromium';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Frame-to-alert-on-screen: the console's Operator view in headless Chromium, alerts over socket.io. */
export const alertScreenBenchmark: Benchmark = {
  name: 'alert-screen',
  title: "Frame to alert on an operator's screen (headless Chromium, socket.io)",
  async run(context: BenchmarkContext): Promise<BenchmarkOutcome> {
    const skipped = (why: string): BenchmarkOutcome => ({
      status: 'skipped',
      summary: [],
      notes: [`skipped: ${why}`],
      data: {},
      charts: [],
    });
    if (!fs.existsSync(CHROMIUM)) return skipped(`no Chromium at ${CHROMIUM}`);
    if (!fs.existsSync(path.join(CONSOLE_DIST, 'index.html')))
      return skipped(`the console is not built (${CONSOLE_DIST}); run npm run build`);
    const seconds = context.mode === 'quick' ? 20 : 45;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-screen-'));
    let live: LiveSystem | undefined;
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    try {
      // The largest face of each sample photo: enrolled, and the one the single-face video shows.
      const photos = samplePhotos();
      const { faces: largest, threshold } = await largestSampleFaces(context.modelsDir);
      const video = await makeVideo(dir, 'crowd', await Promise.all(photos.map((f) => toFrame(f))));
      live = await LiveSystem.start(dir);
      const watchlist = await live.api('POST', '/watchlists', {
        name: 'bench screen',
        description: 'benchmark',
      });
      for (const [i, face] of largest.entries())
        await live.enrol(watchlist.json.id, `person-${i + 1}`, await faceCrop(face.file, face.box));
      const deployment = await live.api('POST', '/deployments', {
        name: 'bench screen',
        location: 'benchmark',
        threshold,
        watchlistIds: [watchlist.json.id],
      });
      const id = deployment.json.id as string;
      await live.api('POST', `/deployments/${id}/cameras`, {
        name: 'camera 1',
        url: video,
        fps: 10,
        loop: true,
      });

      const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
      const url = live.system.url as string;
      await page.goto(url);
      await page.fill('#username', 'admin');
      await page.fill('#password', 'bench-admin-password-1');
      await page.click('#login-form button[type=submit]');
      await page.waitForSelector('#whoami');
      await page.goto(`${url}/#/operator?deployment=${id}`);
      await page.waitForSelector('#connection[data-state=connected]', { timeout: 60_000 });
      // The moment each alert card enters the page, by the page's own clock (the same machine's).
      await page.evaluate(`(() => {
        window.__seen = {};
        const mark = (node) => {
          if (node.nodeType !== 1) return;
          const cards = node.matches('.alert-card') ? [node] : [...node.querySelectorAll('.alert-card')];
          for (const card of cards) {
            const id = card.getAttribute('data-alert-id');
            if (id && !(id in window.__seen)) window.__seen[id] = Date.now();
          }
        };
        new MutationObserver((records) => records.forEach((r) => r.addedNodes.forEach(mark))).observe(document.body, { childList: true, subtree: true });
      })()`);
      await live.startDeployment(id);
      await sleep(seconds * 1000);
      const seen = (await page.evaluate('window.__seen')) as Record<string, number>;
      await live.api('POST', `/deployments/${id}/stop`);
      const alerts = await live.alerts(id);
      const onScreen: number[] = [];
      const stored: number[] = [];
      for (const alert of alerts as { id?: string; capturedAt: string; createdAt: string }[]) {
        stored.push(Date.parse(alert.createdAt) - Date.parse(alert.capturedAt));
        const shown = alert.id ? seen[alert.id] : undefined;
        if (shown !== undefined) onScreen.push(shown - Date.parse(alert.capturedAt));
      }
      const screen = summarise(onScreen);
      const db = summarise(stored);
      return {
        status: onScreen.length > 0 ? 'ok' : 'partial',
        summary: [
          {
            metric: 'frame to alert on screen p50 / p95 ms (n)',
            value:
              onScreen.length > 0
                ? `${round(screen.p50, 0)} / ${round(screen.p95, 0)} (${screen.n})`
                : `no alert reached the screen in ${seconds} s`,
            reference: `frame to alert stored p50 / p95 ${round(db.p50, 0)} / ${round(db.p95, 0)} (${db.n})`,
            note: `socket.io delivery and rendering add ${round(screen.p50 - db.p50, 0)} ms at the median`,
          },
        ],
        notes: [
          `One 1080p camera at 10 fps (face-api's sample photos, looped) on a system started as \`npm start\` does; the console's Operator view open in headless Chromium (${CHROMIUM}, playwright-core) as the admin, subscribed to the deployment over socket.io before it starts; ${seconds} s measured.`,
          "On-screen time: when the alert card entered the page (a MutationObserver, the page's clock) minus the frame's capturedAt (when ingest read it from ffmpeg). Stored: the alert row's createdAt minus capturedAt. Both clocks are this machine's.",
        ],
        data: { seconds, threshold, onScreenMs: screen, storedMs: db, alerts: alerts.length },
        charts: [],
      };
    } finally {
      await browser.close().catch(() => undefined);
      await live?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
