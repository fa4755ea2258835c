import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  Benchmark,
  BenchmarkContext,
  BenchmarkOutcome,
  BenchmarkResult,
  SummaryRow,
} from '../harness/benchmark.js';
import { median, round, summarise } from '../harness/statistics.js';
import { RESULTS_DIR } from '../paths.js';
import { LiveSystem, makeVideo, residentMemory, sumMetric } from './live-system.js';
import { faceCrop, largestSampleFaces, samplePhotos, singleFaceFrame, toFrame } from './sample-frames.js';

/** The camera the issue names: 1080p at 10 fps. */
const CAMERA_FPS = 10;
/** A camera counts as real time when this share of its frames is analysed. */
const REALTIME_SHARE = 0.95;
/** Target from the issue: p95 frame-to-alert under 300 ms for one camera. */
const TARGET_P95_MS = 300;

interface Scenario {
  name: string;
  cameras: number;
  video: 'crowd' | 'single';
  seconds: number;
}

interface ScenarioResult extends Scenario {
  windowSeconds: number;
  framesIn: number;
  framesDropped: number;
  framesAnalysed: number;
  deliveredFpsPerCamera: number;
  analysedFpsPerCamera: number;
  realTime: boolean;
  facesProcessed: number;
  facesPerSecond: number;
  embeddings: number;
  detectMsPerFrame: number;
  alerts: number;
  frameToAlertMs: ReturnType<typeof summarise>;
  rssMiB: { process: { median: number; max: number }; ffmpegPerProcess: number };
}

const SCENARIOS: Record<'quick' | 'full', Scenario[]> = {
  quick: [{ name: '1 camera, crowd', cameras: 1, video: 'crowd', seconds: 15 }],
  full: [
    { name: '1 camera, crowd', cameras: 1, video: 'crowd', seconds: 40 },
    { name: '2 cameras, crowd', cameras: 2, video: 'crowd', seconds: 40 },
    { name: '1 camera, one face', cameras: 1, video: 'single', seconds: 40 },
  ],
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runScenario(
  live: LiveSystem,
  scenario: Scenario,
  video: string,
  watchlistId: string,
  threshold: number,
  log: (m: string) => void,
): Promise<ScenarioResult> {
  const deployment = await live.api('POST', '/deployments', {
    name: `bench ${scenario.name}`,
    location: 'benchmark',
    threshold,
    watchlistIds: [watchlistId],
  });
  if (deployment.status !== 201) throw new Error(`deployment refused: ${JSON.stringify(deployment.json)}`);
  const id = deployment.json.id as string;
  for (let i = 0; i < scenario.cameras; i++) {
    const camera = await live.api('POST', `/deployments/${id}/cameras`, {
      name: `camera ${i + 1}`,
      url: video,
      fps: CAMERA_FPS,
      loop: true,
    });
    if (camera.status !== 201) throw new Error(`camera refused: ${JSON.stringify(camera.json)}`);
  }
  await live.startDeployment(id);
  // Warm-up: ffmpeg starts and the first frames reach the workers.
  const warmUntil = Date.now() + 30_000;
  while (
    Date.now() < warmUntil &&
    sumMetric(await live.metrics(), 'vigil_frames_in_total', { deployment: id }) === 0
  ) {
    await sleep(250);
  }
  await sleep(3000);
  const before = await live.metrics();
  const t0 = Date.now();
  const rss: number[] = [];
  const ffmpeg: number[] = [];
  while (Date.now() - t0 < scenario.seconds * 1000) {
    await sleep(1000);
    const memory = residentMemory();
    rss.push(memory.self);
    for (const child of memory.children.filter((c) => c.command.includes('ffmpeg'))) ffmpeg.push(child.rss);
  }
  const after = await live.metrics();
  const t1 = Date.now();
  await live.api('POST', `/deployments/${id}/stop`);
  // Let the stages drain so the next scenario starts on idle workers.
  await sleep(3000);
  const window = (t1 - t0) / 1000;
  const delta = (name: string, where: Record<string, string>) =>
    sumMetric(after, name, where) - sumMetric(before, name, where);
  const framesIn = delta('vigil_frames_in_total', { deployment: id });
  const framesDropped = delta('vigil_frames_dropped_total', { deployment: id });
  const framesAnalysed = delta('vigil_stage_duration_seconds_count', { stage: 'detect' });
  const detectSeconds = delta('vigil_stage_duration_seconds_sum', { stage: 'detect' });
  const facesProcessed = delta('vigil_faces_processed_total', { deployment: id });
  const alerts = (await live.alerts(id)).filter((a) => {
    const created = Date.parse(a.createdAt);
    return created >= t0 && created <= t1;
  });
  const latencies = alerts.map((a) => Date.parse(a.createdAt) - Date.parse(a.capturedAt));
  const analysedFps = framesAnalysed / window / scenario.cameras;
  const result: ScenarioResult = {
    ...scenario,
    windowSeconds: round(window, 1),
    framesIn,
    framesDropped,
    framesAnalysed,
    deliveredFpsPerCamera: framesIn / window / scenario.cameras,
    analysedFpsPerCamera: analysedFps,
    realTime: analysedFps >= REALTIME_SHARE * CAMERA_FPS,
    facesProcessed,
    facesPerSecond: facesProcessed / window,
    embeddings: delta('vigil_embeddings_total', { deployment: id }),
    detectMsPerFrame: framesAnalysed > 0 ? (detectSeconds / framesAnalysed) * 1000 : Number.NaN,
    alerts: alerts.length,
    frameToAlertMs: summarise(latencies),
    rssMiB: {
      process: { median: median(rss), max: Math.max(...rss) },
      ffmpegPerProcess: ffmpeg.length > 0 ? median(ffmpeg) : Number.NaN,
    },
  };
  log(
    `${scenario.name}: ${round(analysedFps, 2)} fps analysed a camera, ${alerts.length} alerts, p95 ${round(result.frameToAlertMs.p95, 0)} ms`,
  );
  return result;
}

/** Matching cost by watchlist size from the matching benchmark's latest JSON, if it has run. */
function matchingBySize(): { size: number; p50: number; backend: string }[] {
  const file = path.join(RESULTS_DIR, 'matching.json');
  if (!fs.existsSync(file)) return [];
  const result = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchmarkResult;
  const rows = (result.data.results ?? []) as { backend: string; size: number; exactMs: { p50: number } }[];
  return rows.map((r) => ({ size: r.size, p50: r.exactMs.p50, backend: r.backend }));
}

/** Live pipeline: fps, faces/s, frame-to-alert latency, cameras in real time, memory; cost growth. */
export const pipelineBenchmark: Benchmark = {
  name: 'pipeline',
  title: 'Live pipeline: 1080p cameras at 10 fps through ingest, detector, embedder and matcher',
  async run(context: BenchmarkContext): Promise<BenchmarkOutcome> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-pipeline-'));
    let live: LiveSystem | undefined;
    try {
      // The largest face of each sample photo: enrolled, and the one the single-face video shows.
      const photos = samplePhotos();
      const { faces: largest, threshold } = await largestSampleFaces(context.modelsDir);
      const crowd = await makeVideo(dir, 'crowd', await Promise.all(photos.map((f) => toFrame(f))));
      const single = await makeVideo(
        dir,
        'single',
        await Promise.all(largest.map((f) => singleFaceFrame(f.file, f.box))),
      );
      live = await LiveSystem.start(dir);
      const watchlist = await live.api('POST', '/watchlists', {
        name: 'bench pipeline',
        description: 'benchmark',
      });
      let enrolled = 0;
      for (const [i, face] of largest.entries()) {
        const result = await live.enrol(
          watchlist.json.id,
          `person-${i + 1}`,
          await faceCrop(face.file, face.box),
        );
        if (result.status === 201) enrolled++;
      }
      context.log(`${enrolled} of ${largest.length} subjects enrolled; threshold ${threshold}`);
      const results: ScenarioResult[] = [];
      for (const scenario of SCENARIOS[context.mode]) {
        results.push(
          await runScenario(
            live,
            scenario,
            scenario.video === 'crowd' ? crowd : single,
            watchlist.json.id,
            threshold,
            context.log,
          ),
        );
      }
      const summary: SummaryRow[] = results.map((r) => ({
        metric: `${r.name}: analysed fps a camera, faces/s, frame-to-alert p50/p95/p99 ms (n alerts)`,
        value: `${round(r.analysedFpsPerCamera, 2)} fps, ${round(r.facesPerSecond, 1)} faces/s, ${round(r.frameToAlertMs.p50, 0)}/${round(r.frameToAlertMs.p95, 0)}/${round(r.frameToAlertMs.p99, 0)} ms (${r.alerts})`,
        reference: `camera delivers ${CAMERA_FPS} fps (${round(r.deliveredFpsPerCamera, 2)} read); detect ${round(r.detectMsPerFrame, 0)} ms a frame`,
        note:
          r.cameras === 1 && r.video === 'crowd'
            ? `real time ${r.realTime ? 'yes' : 'no'}; target p95 < ${TARGET_P95_MS} ms ${r.frameToAlertMs.p95 < TARGET_P95_MS ? 'met' : 'missed'}; RSS ${round(r.rssMiB.process.median, 0)} MiB + ffmpeg ${round(r.rssMiB.ffmpegPerProcess, 0)} MiB`
            : `real time ${r.realTime ? 'yes' : 'no'}; RSS ${round(r.rssMiB.process.median, 0)} MiB`,
      }));
      const crowdRuns = results.filter((r) => r.video === 'crowd');
      const held = Math.max(0, ...crowdRuns.filter((r) => r.realTime).map((r) => r.cameras));
      const best = crowdRuns.find((r) => r.cameras === 1);
      summary.push({
        metric: '1080p cameras at 10 fps one machine holds in real time',
        value: `${held}`,
        reference: best
          ? `one camera: ${round(best.analysedFpsPerCamera, 2)} of ${CAMERA_FPS} fps analysed (~${round(best.analysedFpsPerCamera / CAMERA_FPS, 2)} of a camera)`
          : '',
        note: `tried ${crowdRuns.map((r) => r.cameras).join(', ')} camera(s)`,
      });
      const charts = [];
      charts.push(
        await context.chart('pipeline-cameras.png', {
          kind: 'line',
          title: 'Frames analysed per camera as cameras are added (crowd video)',
          xLabel: 'cameras',
          yLabel: 'frames per second per camera',
          series: [
            { name: 'analysed', points: crowdRuns.map((r) => [r.cameras, r.analysedFpsPerCamera]) },
            { name: 'read from ffmpeg', points: crowdRuns.map((r) => [r.cameras, r.deliveredFpsPerCamera]) },
            {
              name: 'camera rate (10 fps)',
              points: crowdRuns.map((r) => [r.cameras, CAMERA_FPS]),
              dashed: true,
            },
          ],
        }),
      );
      charts.push(
        await context.chart('pipeline-faces.png', {
          kind: 'bar',
          title: 'Cost by faces in the frame (one camera)',
          yLabel: 'ms',
          categories: results
            .filter((r) => r.cameras === 1)
            .map(
              (r) =>
                `${r.video === 'crowd' ? 'crowd' : 'one face'} (${round(r.facesProcessed / Math.max(1, r.framesAnalysed), 1)} faces/frame)`,
            ),
          series: [
            {
              name: 'detect ms a frame',
              values: results.filter((r) => r.cameras === 1).map((r) => round(r.detectMsPerFrame, 0)),
            },
            {
              name: 'frame-to-alert p50 ms',
              values: results.filter((r) => r.cameras === 1).map((r) => round(r.frameToAlertMs.p50, 0)),
            },
          ],
        }),
      );
      const matching = matchingBySize();
      const notes = [
        `Videos made with ffmpeg from face-api's ${photos.length} sample photos at 1920x1080: "crowd" shows each photo (3-6 faces) for 3 s with 2 s of black between (so each showing is a new track), looped; "one face" shows only the largest face of each photo at the same size. H.264, ${CAMERA_FPS} fps, played at real-time speed (\`-re\`), sampled at ${CAMERA_FPS} fps.`,
        `System: \`startSystem\` with role \`all\` (what \`npm start\` runs): PGlite, in-process bus, inference in worker threads, in this process; ${enrolled} subjects enrolled (the largest face of each photo), threshold ${threshold} (the profile's default).`,
        "Figures per scenario over a measured window after a warm-up: frames read (vigil_frames_in_total), frames analysed (detect stage count), faces processed, alerts created in the window. Frame-to-alert latency: alert createdAt minus the frame's capturedAt (when ingest read it from ffmpeg), both stamped on this machine. Alerts are de-duplicated per camera and subject within the cooldown (one alert for one person passing, however many frames show them), so there are few per run: n is given, and with n this small p95 and p99 are the slowest alerts seen.",
        `A camera is "real time" when at least ${REALTIME_SHARE * 100}% of its ${CAMERA_FPS} fps are analysed; frames the detector cannot keep up with are dropped by the bounded queues (counted), never queued without bound. Memory: resident set of this one process (API and every worker) and of each ffmpeg child.`,
      ];
      if (matching.length > 0) {
        const backends = [...new Set(matching.map((m) => m.backend))];
        charts.push(
          await context.chart('pipeline-watchlist.png', {
            kind: 'line',
            title: 'Matcher query cost by watchlist size (exact search, from the matching benchmark)',
            xLabel: 'watchlist size',
            yLabel: 'ms per search (p50)',
            xLog: true,
            yLog: true,
            series: backends.map((b) => ({
              name: b,
              points: matching.filter((m) => m.backend === b).map((m) => [m.size, m.p50] as [number, number]),
            })),
          }),
        );
        notes.push(
          "Watchlist size: the pipeline's only stage whose cost depends on the list is the matcher's search; its growth is charted from the matching benchmark (exact search, the matcher's default) rather than by enrolling 100k subjects through the API here.",
        );
      } else {
        notes.push(
          "Watchlist size: run the matching benchmark for the chart of the matcher's cost by list size.",
        );
      }
      if (context.mode === 'quick')
        notes.push(
          'Quick mode: one camera with the crowd video for 15 s; the full run adds two cameras and the one-face video.',
        );
      return { status: 'ok', summary, notes, data: { enrolled, threshold, scenarios: results }, charts };
    } finally {
      await live?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
