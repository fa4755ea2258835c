import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Bus, type NatsBus, parsePrometheusText } from '@vigil/core';
import { createTestBus, createTestDatabase, freePort, type TestDatabase, waitFor } from '@vigil/core/testing';
import { ffmpegPath } from '@vigil/ingest';
import { decodeAlert } from '@vigil/proto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseDeployment, createAuthoriser } from '../../services/api/test/authorisation.fixture.js';
import { apiCaller, E2E_THRESHOLD, enrolmentForm, SAMPLES } from '../pipeline/pipeline.fixtures.js';

/**
 * Issue 10's scale-out check: every role as its own `vigil serve --role X` process on PostgreSQL and
 * nats-server, one detector and one matcher SIGKILLed mid-stream and restarted (as a supervisor
 * would), then every role stopped with SIGTERM. Split roles need NATS and PostgreSQL, so this runs
 * only where both are set (CI's first pass).
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VIGIL = path.join(ROOT, 'services/cli/bin/vigil.mjs');
const PASSWORD = 'scale-out-admin-password';
/** Short, so each pass of the looping video (10 s) alerts again; longer than one appearance (3 s). */
const COOLDOWN_SECONDS = 4;
const CAMERA_FPS = 2;
const split = Boolean(process.env.DATABASE_URL && process.env.NATS_URL);

interface RoleProcess {
  name: string;
  role: 'ingest' | 'detector' | 'embedder' | 'matcher' | 'api';
  /** Ops listener (workers) or the API's own port: /ready and /metrics. */
  port: number;
  child: ChildProcess;
  output: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A 10 s loop: the enrolled person's photo 3 s, black 2 s, another group 3 s, black 2 s; 10 fps H.264. */
function makeLoopVideo(dir: string): string {
  const out = path.join(dir, 'loop.mp4');
  const scale =
    'scale=960:540:force_original_aspect_ratio=decrease,pad=960:540:(ow-iw)/2:(oh-ih)/2,setsar=1,fps=10,format=yuv420p';
  const result = spawnSync(
    ffmpegPath(),
    [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-framerate',
      '10',
      '-t',
      '3',
      '-i',
      path.join(SAMPLES, 'sample1.jpg'),
      '-loop',
      '1',
      '-framerate',
      '10',
      '-t',
      '3',
      '-i',
      path.join(SAMPLES, 'sample2.jpg'),
      '-f',
      'lavfi',
      '-i',
      'color=black:s=960x540:r=10:d=2,format=yuv420p',
      '-f',
      'lavfi',
      '-i',
      'color=black:s=960x540:r=10:d=2,format=yuv420p',
      '-filter_complex',
      `[0:v]${scale}[a];[1:v]${scale}[b];[2:v]setsar=1[g1];[3:v]setsar=1[g2];[a][g1][b][g2]concat=n=4:v=1:a=0[v]`,
      '-map',
      '[v]',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-r',
      '10',
      out,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffmpeg could not make the camera video: ${result.stderr}`);
  return out;
}

describe.runIf(split)(
  'scale-out: every role its own process on PostgreSQL + NATS, killed and restarted',
  () => {
    let dir: string;
    let testDb: TestDatabase;
    let bus: Bus;
    let apiUrl: string;
    let token: string;
    let socket: Socket | undefined;
    const consumer = `scale-${randomBytes(6).toString('hex')}`;
    const dataKey = randomBytes(32).toString('base64');
    const processes = new Map<string, RoleProcess>();
    const everyChild: ChildProcess[] = [];
    /** Alert ids in the order the socket.io client received them (duplicates kept, to be counted). */
    const received: string[] = [];

    function start(name: string, role: RoleProcess['role'], port: number): RoleProcess {
      const dataDir = path.join(dir, name);
      fs.mkdirSync(dataDir, { recursive: true });
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: dataDir,
        VIGIL_DATA_DIR: dataDir,
        VIGIL_DATA_KEY: dataKey,
        VIGIL_ADMIN_PASSWORD: PASSWORD,
        VIGIL_MIGRATE: 'false',
        VIGIL_ALERT_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
        VIGIL_ALERT_CONSUMER: consumer,
        DATABASE_URL: testDb.url,
        NATS_URL: process.env.NATS_URL,
        LOG_LEVEL: 'warn',
        ...(role === 'api' ? { PORT: String(port) } : { PORT: '0', VIGIL_OPS_PORT: String(port) }),
      };
      for (const key of ['VIGIL_MODELS_DIR', 'VIGIL_MODEL_PROFILE'] as const)
        if (process.env[key]) env[key] = process.env[key];
      const child = spawn(process.execPath, [VIGIL, 'serve', '--role', role], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      everyChild.push(child);
      const proc: RoleProcess = {
        name,
        role,
        port,
        child,
        output: '',
        exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
      };
      const keep = (chunk: Buffer) => {
        proc.output = (proc.output + chunk.toString()).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      processes.set(name, proc);
      return proc;
    }

    const base = (proc: RoleProcess) => `http://127.0.0.1:${proc.port}`;
    const get = (name: string) => processes.get(name) as RoleProcess;

    async function ready(proc: RoleProcess, timeoutMs = 150_000): Promise<void> {
      await waitFor(
        async () => {
          if (proc.child.exitCode !== null || proc.child.signalCode !== null)
            throw new Error(`${proc.name} exited before it was ready:\n${proc.output}`);
          const response = await fetch(`${base(proc)}/ready`).catch(() => undefined);
          return response?.status === 200;
        },
        timeoutMs,
        250,
      );
    }

    async function scrape(proc: RoleProcess) {
      const headers: Record<string, string> = proc.role === 'api' ? { authorization: `Bearer ${token}` } : {};
      const response = await fetch(`${base(proc)}/metrics`, { headers });
      expect(response.status).toBe(200);
      return parsePrometheusText(await response.text()).samples;
    }

    /** Sum of a metric's samples in a process whose labels include `labels`. */
    async function metric(
      proc: RoleProcess,
      name: string,
      labels: Record<string, string> = {},
    ): Promise<number> {
      const samples = await scrape(proc);
      return samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    }

    const startTime = (proc: RoleProcess) => metric(proc, 'vigil_process_start_time_seconds');
    /** Frames a detector has run through the model. */
    const detected = (proc: RoleProcess) =>
      metric(proc, 'vigil_stage_duration_seconds_count', { stage: 'detect' });
    /** Embeddings a matcher has searched. */
    const searched = (proc: RoleProcess) => metric(proc, 'vigil_match_queries_total');

    const api = apiCaller(
      () => apiUrl,
      () => token,
    );

    async function storedAlerts(deploymentId: string) {
      const result = await testDb.db.query<{
        id: string;
        camera_id: string;
        subject_id: string;
        track_id: string;
        captured_at: Date;
        dedupe_key: string;
      }>(
        `SELECT id::text AS id, camera_id, subject_id, track_id, captured_at, dedupe_key
         FROM alerts WHERE deployment_id = $1 ORDER BY id`,
        [deploymentId],
      );
      return result.rows;
    }

    /** Alerts of the deployment on the JetStream stream: id of each message, in stream order. */
    async function streamedAlertIds(deploymentId: string): Promise<string[]> {
      const js = jetstream((bus as NatsBus).connection);
      const ordered = await js.consumers.get('VIGIL_ALERTS', {
        filter_subjects: `vigil.v1.${deploymentId}.alerts.*`,
      });
      const pending = (await ordered.info()).num_pending;
      const ids: string[] = [];
      if (pending === 0) return ids;
      const messages = await ordered.fetch({ max_messages: pending, expires: 5000 });
      for await (const m of messages) {
        ids.push(decodeAlert(m.data).id);
        if (ids.length >= pending) break;
      }
      return ids;
    }

    async function cameraStatus(deploymentId: string): Promise<string> {
      const status = await api('GET', `/deployments/${deploymentId}/status`);
      expect(status.status).toBe(200);
      return status.json.cameras[0].status;
    }

    async function sigterm(proc: RoleProcess): Promise<void> {
      proc.child.kill('SIGTERM');
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 45_000);
      const exit = await proc.exited;
      clearTimeout(timer);
      expect(exit, `${proc.name} after SIGTERM:\n${proc.output}`).toEqual({ code: 0, signal: null });
    }

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-scale-'));
      testDb = await createTestDatabase();
      bus = await createTestBus('vigil-scale-test');
      const names = [
        ['api', 'api'],
        ['ingest', 'ingest'],
        ['detector-a', 'detector'],
        ['detector-b', 'detector'],
        ['embedder-a', 'embedder'],
        ['embedder-b', 'embedder'],
        ['matcher-a', 'matcher'],
        ['matcher-b', 'matcher'],
      ] as const;
      for (const [name, role] of names) start(name, role, await freePort());
      for (const proc of processes.values()) await ready(proc);
      apiUrl = base(get('api'));
      const login = await fetch(`${apiUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: PASSWORD }),
      });
      expect(login.status).toBe(200);
      token = ((await login.json()) as { token: string }).token;
    }, 200_000);

    afterAll(async () => {
      socket?.disconnect();
      for (const child of everyChild)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(
        everyChild.map((child) =>
          child.exitCode === null && child.signalCode === null
            ? new Promise((resolve) => child.once('exit', resolve))
            : undefined,
        ),
      );
      if (bus) {
        const jsm = await jetstreamManager((bus as NatsBus).connection);
        await jsm.consumers.delete('VIGIL_ALERTS', consumer).catch(() => false);
        await bus.close().catch(() => {});
      }
      await testDb?.drop().catch(() => {});
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('alerts exactly once through SIGKILL and restart of a detector and a matcher, then drains on SIGTERM', async () => {
      // Enrol through the API: the right-most woman of sample1, as test/pipeline does.
      const watchlist = await api('POST', '/watchlists', { name: 'Scale list', description: 'scale-out' });
      expect(watchlist.status).toBe(201);
      const form = enrolmentForm(dir);
      const enrolled = await api('POST', `/watchlists/${watchlist.json.id}/subjects`, form);
      expect(enrolled.status).toBe(201);
      const subjectId = enrolled.json.id as string;

      const deployment = await api('POST', '/deployments', {
        name: 'Scale-out',
        location: 'test',
        threshold: E2E_THRESHOLD,
        watchlistIds: [watchlist.json.id],
      });
      expect(deployment.status).toBe(201);
      const deploymentId = deployment.json.id as string;
      const camera = await api('POST', `/deployments/${deploymentId}/cameras`, {
        name: 'loop',
        url: makeLoopVideo(dir),
        fps: CAMERA_FPS,
        loop: true,
      });
      expect(camera.status).toBe(201);

      // An operator's live feed through the API's socket.io, subscribed before the stream starts.
      socket = io(`${apiUrl}/alerts`, { path: '/socket.io', auth: { token }, transports: ['websocket'] });
      socket.on('alert', (alert: { id: string; deploymentId: string }) => {
        if (alert.deploymentId === deploymentId) received.push(alert.id);
      });
      const ack = (await socket.timeout(20_000).emitWithAck('subscribe', { deploymentId })) as {
        ok: boolean;
      };
      expect(ack.ok).toBe(true);
      const authoriser = await createAuthoriser(api, (t) =>
        apiCaller(
          () => apiUrl,
          () => t,
        ),
      );
      await authoriseDeployment(api, authoriser, deploymentId);
      expect((await api('POST', `/deployments/${deploymentId}/start`)).status).toBe(200);

      // Both detectors and both matchers take a share of the stream, and the first alert arrives.
      await waitFor(async () => received.length > 0, 90_000, 250);
      await waitFor(
        async () =>
          (await detected(get('detector-a'))) > 0 &&
          (await detected(get('detector-b'))) > 0 &&
          (await searched(get('matcher-a'))) > 0 &&
          (await searched(get('matcher-b'))) > 0,
        60_000,
        500,
      );
      expect(await cameraStatus(deploymentId)).toBe('online');
      // The detectors' frame queues are sampled into the registry (the autoscaler's signal). Each
      // process samples on its own 5 s clock, so both are waited for (regression: a single look at
      // detector-b failed when the first alert came before its first sample).
      const queueDepthShown = async (name: string) =>
        (await scrape(get(name))).some((s) => s.name === 'vigil_queue_depth' && s.labels.stage === 'frames');
      await waitFor(
        async () => (await queueDepthShown('detector-a')) && (await queueDepthShown('detector-b')),
        20_000,
        500,
      );

      // SIGKILL one detector and one matcher mid-stream.
      const killedStart = {
        detector: await startTime(get('detector-a')),
        matcher: await startTime(get('matcher-a')),
      };
      for (const name of ['detector-a', 'matcher-a']) {
        const proc = get(name);
        proc.child.kill('SIGKILL');
        expect(await proc.exited).toEqual({ code: null, signal: 'SIGKILL' });
      }
      const killedAt = Date.now();
      const survivors = {
        detector: await detected(get('detector-b')),
        matcher: await searched(get('matcher-b')),
      };
      const beforeKill = received.length;

      // The survivors carry the stream alone: more frames detected, more embeddings searched, a new alert.
      await waitFor(
        async () =>
          received.length > beforeKill &&
          (await detected(get('detector-b'))) > survivors.detector &&
          (await searched(get('matcher-b'))) > survivors.matcher,
        60_000,
        500,
      );
      expect(await cameraStatus(deploymentId)).toBe('online');

      // A supervisor restarts them on the same ports; their metrics show a new process that works.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1100 - (Date.now() - killedAt))));
      const restarted = [
        start('detector-a', 'detector', get('detector-a').port),
        start('matcher-a', 'matcher', get('matcher-a').port),
      ];
      for (const proc of restarted) await ready(proc);
      expect(await startTime(get('detector-a'))).toBeGreaterThan(killedStart.detector);
      expect(await startTime(get('matcher-a'))).toBeGreaterThan(killedStart.matcher);
      const beforeRestart = received.length;
      await waitFor(
        async () =>
          received.length > beforeRestart &&
          (await detected(get('detector-a'))) > 0 &&
          (await searched(get('matcher-a'))) > 0,
        60_000,
        500,
      );
      expect(await cameraStatus(deploymentId)).toBe('online');

      // SIGTERM mid-stream: the other detector and matcher drain what they hold and exit 0 while
      // frames keep coming; the restarted pair carries the stream and alerts again.
      await sigterm(get('detector-b'));
      await sigterm(get('matcher-b'));
      const beforeDrain = received.length;
      const carried = {
        detector: await detected(get('detector-a')),
        matcher: await searched(get('matcher-a')),
      };
      await waitFor(
        async () =>
          received.length > beforeDrain &&
          (await detected(get('detector-a'))) > carried.detector &&
          (await searched(get('matcher-a'))) > carried.matcher,
        60_000,
        500,
      );

      // Graceful stop of the rest, in the order a frame flows: each role drains and exits 0.
      await sigterm(get('ingest'));
      for (const name of ['detector-a', 'embedder-a', 'embedder-b', 'matcher-a']) await sigterm(get(name));

      // Exactly once: one row per dedupe key, no second alert of a camera and subject within the cooldown.
      const stored = await storedAlerts(deploymentId);
      expect(stored.length).toBeGreaterThanOrEqual(4);
      expect(stored.every((a) => a.subject_id === subjectId && a.camera_id === camera.json.id)).toBe(true);
      expect(new Set(stored.map((a) => a.dedupe_key)).size).toBe(stored.length);
      const captured = stored.map((a) => new Date(a.captured_at).getTime()).sort((x, y) => x - y);
      for (let i = 1; i < captured.length; i++)
        expect((captured[i] as number) - (captured[i - 1] as number)).toBeGreaterThanOrEqual(
          COOLDOWN_SECONDS * 1000,
        );
      const storedIds = stored.map((a) => a.id).sort();

      // Every stored alert was published on JetStream once, and every published one is stored.
      const streamed = await streamedAlertIds(deploymentId);
      expect(streamed.length).toBe(new Set(streamed).size);
      expect([...streamed].sort()).toEqual(storedIds);

      // Nothing lost in the matchers' drain: the live feed and the alert route show each stored alert once.
      await waitFor(() => received.length >= stored.length, 30_000, 250);
      expect(received.length).toBe(new Set(received).size);
      expect([...received].sort()).toEqual(storedIds);
      const listed = await api('GET', `/deployments/${deploymentId}/alerts?limit=200`);
      expect(listed.status).toBe(200);
      expect(listed.json.alerts.map((a: { id: string }) => a.id).sort()).toEqual(storedIds);

      // The API drains last and exits 0 too.
      socket.disconnect();
      await sigterm(get('api'));
    }, 300_000);
  },
);
