import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, loadConfig } from '@vigil/core';
import { ffmpegPath } from '@vigil/ingest';
import { type System, startSystem } from '@vigil/system';
import sharp from 'sharp';
import {
  type ApiCall,
  authoriseDeployment,
  createAuthoriser,
} from '../../../services/api/test/authorisation.fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field.
type Json = any;

const ADMIN_PASSWORD = 'bench-admin-password-1';

/**
 * Vigil started as `npm start` starts it (`startSystem` with role `all`: API, ingest, detector,
 * embedder, matcher in this process, inference in worker threads), driven over its HTTP API.
 */
export class LiveSystem {
  #authoriser: ApiCall | undefined;

  private constructor(
    readonly system: System,
    private readonly token: string,
  ) {}

  /** Starts on the embedded defaults (PGlite under `dir`, in-process bus) on an ephemeral port. */
  static async start(dir: string): Promise<LiveSystem> {
    const config = loadConfig({
      PORT: '0',
      VIGIL_DATA_DIR: path.join(dir, 'data'),
      VIGIL_DATA_KEY: randomBytes(32).toString('base64'),
      VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    const system = await startSystem({ config, roles: ['all'], logger: createLogger({ level: 'silent' }) });
    const readyBy = Date.now() + 180_000;
    while (
      (await fetch(`${system.url}/ready`)
        .then((r) => r.status)
        .catch(() => 0)) !== 200
    ) {
      if (Date.now() > readyBy) throw new Error('Vigil did not become ready within 180 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const login = await fetch(`${system.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    return new LiveSystem(system, token);
  }

  /** One API call as the admin. */
  async api(method: string, route: string, body?: unknown): Promise<{ status: number; json: Json }> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.token}` } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.system.url}/api/v1${route}`, init);
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  }

  /** One API call as the holder of `token`. */
  #caller(token: string): ApiCall {
    return async (method, route, body) => {
      const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      const response = await fetch(`${this.system.url}/api/v1${route}`, init);
      const text = await response.text();
      return { status: response.status, json: text ? JSON.parse(text) : undefined };
    };
  }

  /**
   * Starts a deployment the way a force must (issue 24): an authoriser user (created once) approves its
   * watchlist entries and grants the admin's request for authorisation, then the admin starts it.
   */
  async startDeployment(deploymentId: string): Promise<void> {
    const admin = this.#caller(this.token);
    this.#authoriser ??= await createAuthoriser(admin, (token) => this.#caller(token), 'bench-authoriser');
    await authoriseDeployment(admin, this.#authoriser, deploymentId);
    const start = await this.api('POST', `/deployments/${deploymentId}/start`);
    if (start.status !== 200) throw new Error(`start refused: ${JSON.stringify(start.json)}`);
  }

  /** Enrols one subject with one image; the status and the time the route took. */
  async enrol(
    watchlistId: string,
    label: string,
    jpeg: Buffer,
  ): Promise<{ status: number; ms: number; code?: string }> {
    const form = new FormData();
    form.append('label', label);
    form.append('category', 'other');
    form.append('priority', 'amber');
    form.append('image', new Blob([new Uint8Array(jpeg)], { type: 'image/jpeg' }), `${label}.jpg`);
    const started = performance.now();
    const result = await this.api('POST', `/watchlists/${watchlistId}/subjects`, form);
    return { status: result.status, ms: performance.now() - started, code: result.json?.error?.code };
  }

  /** Every alert of a deployment, newest first. */
  async alerts(
    deploymentId: string,
  ): Promise<
    { capturedAt: string; createdAt: string; subjectId: string; cameraId: string; score: number }[]
  > {
    const all = [];
    let before: string | undefined;
    for (;;) {
      const page = await this.api(
        'GET',
        `/deployments/${deploymentId}/alerts?limit=100${before ? `&before=${before}` : ''}`,
      );
      const alerts = page.json?.alerts ?? [];
      all.push(...alerts);
      before = page.json?.nextBefore;
      if (!before || alerts.length === 0) break;
    }
    return all;
  }

  /** This process's Prometheus counters and histogram counts/sums, flattened by name and labels. */
  async metrics(): Promise<MetricSample[]> {
    const json = await this.system.metrics.registry.getMetricsAsJSON();
    return json.flatMap((metric) =>
      (
        metric.values as { value: number; labels: Record<string, string | number>; metricName?: string }[]
      ).map((v) => ({
        name: v.metricName ?? metric.name,
        labels: v.labels,
        value: v.value,
      })),
    );
  }

  stop(): Promise<void> {
    return this.system.stop();
  }
}

export interface MetricSample {
  name: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Sum of the samples named `name` whose labels include `where`. */
export function sumMetric(samples: MetricSample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => String(s.labels[k]) === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Resident memory of this process and of its child processes (ffmpeg), in MiB, from /proc. */
export function residentMemory(): {
  self: number;
  children: { pid: number; command: string; rss: number }[];
} {
  const self = process.memoryUsage().rss / 2 ** 20;
  const children: { pid: number; command: string; rss: number }[] = [];
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[1]) !== process.pid) continue;
        const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        children.push({ pid: Number(entry), command, rss });
      } catch {
        // The process ended while being read.
      }
    }
  } catch {
    // No /proc (not Linux): children unknown.
  }
  return { self, children };
}

/**
 * A camera-like video from 1080p frames: each frame held `holdSeconds`, black `gapSeconds`
 * between (longer than the tracker's timeout, so each showing is a new track), 10 fps H.264.
 */
export async function makeVideo(
  dir: string,
  name: string,
  frames: Buffer[],
  options: { holdSeconds?: number; gapSeconds?: number; fps?: number } = {},
): Promise<string> {
  const hold = options.holdSeconds ?? 3;
  const gap = options.gapSeconds ?? 2;
  const fps = options.fps ?? 10;
  const folder = path.join(dir, `${name}-frames`);
  fs.mkdirSync(folder, { recursive: true });
  const black = path.join(folder, 'black.jpg');
  await sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .jpeg()
    .toFile(black);
  const lines: string[] = [];
  frames.forEach((frame, i) => {
    const file = path.join(folder, `frame${i}.jpg`);
    fs.writeFileSync(file, frame);
    lines.push(`file '${file}'`, `duration ${hold}`, `file '${black}'`, `duration ${gap}`);
  });
  // The concat demuxer ignores the last duration unless the last file is listed again.
  lines.push(`file '${black}'`);
  const list = path.join(folder, 'list.txt');
  fs.writeFileSync(list, `${lines.join('\n')}\n`);
  const out = path.join(dir, `${name}.mp4`);
  const result = spawnSync(
    ffmpegPath(),
    [
      '-v',
      'error',
      '-y',
      '-f',
      'concat',
      '-safe',
      '0',
      '-i',
      list,
      '-vf',
      `fps=${fps},format=yuv420p`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      String(fps),
      out,
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffmpeg could not make ${name}.mp4: ${result.stderr}`);
  return out;
}
