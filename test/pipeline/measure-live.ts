/**
 * Live measurement, not a test: one 1080p file camera (sample1.jpg for 2 s, black for 1 s, 8 times)
 * through ingest, the detector and embedder threads and the matcher, in one process on PGlite and
 * the in-process bus (or DATABASE_URL / NATS_URL). Prints frames ingested and detected, stale drops,
 * faces, stage times and frame-to-alert latency (alert received on the durable stream minus frame
 * capture). Run on a quiet machine:
 *
 *   node services/cli/bin/run-ts.mjs test/pipeline/measure-live.ts [camera fps, default 10]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createLogger,
  createMetrics,
  createReadiness,
  DataCipher,
  deploymentSubjects,
  loadConfig,
  subject,
} from '@vigil/core';
import { createTestBus, createTestDatabase } from '@vigil/core/testing';
import { FaceEngine } from '@vigil/face-runtime';
import { ffmpegPath, notifyDeploymentChanged } from '@vigil/ingest';
import { decodeAlert } from '@vigil/proto';
import { startPipeline } from '@vigil/system';
import {
  E2E_THRESHOLD,
  enrolmentImage,
  enrolSubject,
  SAMPLES,
  startDeployment,
} from './pipeline.fixtures.js';

const FPS = Number(process.argv[2] ?? 10);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-measure-'));
const video = path.join(dir, 'v.mp4');
const seg = 2,
  gap = 1,
  cycles = 8;
const args = ['-v', 'error', '-y'];
let filter = '';
const parts: string[] = [];
for (let i = 0; i < cycles; i++) {
  args.push('-loop', '1', '-framerate', '10', '-t', String(seg), '-i', path.join(SAMPLES, 'sample1.jpg'));
  args.push('-f', 'lavfi', '-t', String(gap), '-i', 'color=black:s=1920x1080:r=10');
  filter += `[${2 * i}:v]scale=1920:1080:force_original_aspect_ratio=decrease,pad=1920:1080:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10,format=yuv420p[p${i}];[${2 * i + 1}:v]format=yuv420p,setsar=1[b${i}];`;
  parts.push(`[p${i}][b${i}]`);
}
filter += `${parts.join('')}concat=n=${2 * cycles}:v=1:a=0[v]`;
args.push('-filter_complex', filter, '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', video);
const r = spawnSync(ffmpegPath(), args, { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);
const t = await createTestDatabase();
const bus = await createTestBus('measure');
const key = randomBytes(32);
const engine = await FaceEngine.load({ profile: 'default' });
const w = await enrolSubject(t.db, engine, new DataCipher(key), enrolmentImage(dir));
const model = engine.profile.modelId;
await engine.dispose();
const config = loadConfig({
  VIGIL_DATA_DIR: path.join(dir, 'data'),
  VIGIL_DATA_KEY: key.toString('base64'),
  VIGIL_ALERT_COOLDOWN_SECONDS: '0',
});
const metrics = createMetrics({ role: 'all', processMetrics: false });
const stop = await startPipeline({
  config,
  logger: createLogger({ level: 'warn' }),
  db: t.db,
  bus,
  metrics,
  readiness: createReadiness({}),
  roles: { ingest: true, detector: true, embedder: true, matcher: true },
  threads: true,
});
const d = await startDeployment(t.db, {
  watchlistId: w.watchlistId,
  model,
  threshold: E2E_THRESHOLD,
  video,
  fps: FPS,
});
let frames = 0;
const lat: number[] = [];
bus.subscribe(subject('frames', d.deploymentId, d.cameraId), () => {
  frames++;
});
await bus.durable.consume(
  {
    durableName: `measure-${d.deploymentId.slice(0, 8)}`,
    filter: deploymentSubjects('alerts', d.deploymentId),
  },
  async (m) => {
    const a = decodeAlert(m.data);
    lat.push(Date.now() - a.capturedAtMs);
  },
);
const started = Date.now();
notifyDeploymentChanged(bus, d.deploymentId, 'started');
await new Promise((res) => setTimeout(res, (seg + gap) * cycles * 1000 + 3000));
await stop();
const secs = (Date.now() - started) / 1000;
const c = await t.db.query<{ frames: string; faces_processed: string; faces_matched: string }>(
  `SELECT frames::text, faces_processed::text, faces_matched::text FROM deployment_counters`,
);
const text = await metrics.registry.metrics();
const pick = (name: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .join('\n');
lat.sort((a, b) => a - b);
const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
console.log(
  JSON.stringify(
    {
      cameraFps: FPS,
      seconds: secs,
      framesIngested: frames,
      counters: c.rows,
      alerts: lat.length,
      latencyMs: { p50: q(0.5), p95: q(0.95), max: lat.at(-1) },
    },
    null,
    1,
  ),
);
console.log(pick('vigil_frames_dropped_total'));
console.log(pick('vigil_faces_processed_total'));
console.log(pick('vigil_stage_duration_seconds_sum'), '\n', pick('vigil_stage_duration_seconds_count'));
await bus.close();
await t.drop();
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
