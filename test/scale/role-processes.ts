import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePrometheusText } from '@vigil/core';
import { freePort, waitFor } from '@vigil/core/testing';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VIGIL = path.join(ROOT, 'services/cli/bin/vigil.mjs');

export type Role = 'ingest' | 'detector' | 'embedder' | 'matcher' | 'api';

/** One `vigil serve --role X` child process. */
export interface RoleProcess {
  name: string;
  role: Role;
  /** Ops listener (workers) or the API's own port: /ready and /metrics. */
  port: number;
  child: ChildProcess;
  /** The last 20,000 characters of its stdout and stderr, for failure messages. */
  output: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RoleProcessesOptions {
  /** A folder of the test's own: each process gets `dir/<name>` as its data folder and HOME. */
  dir: string;
  /** What every process shares: DATABASE_URL, NATS_URL, VIGIL_DATA_KEY, VIGIL_ADMIN_PASSWORD... */
  env: Record<string, string>;
}

/**
 * Vigil's roles as separate processes, each in its own process group (so a kill of the group takes its
 * ffmpeg children, and afterAll leaves no orphan), started, killed and restarted on the same port as a
 * supervisor would.
 */
export class RoleProcesses {
  readonly #byName = new Map<string, RoleProcess>();
  readonly #every: ChildProcess[] = [];

  constructor(private readonly options: RoleProcessesOptions) {}

  /** Starts a process of `role` named `name` on `port` (a free one by default); does not wait for it. */
  async start(name: string, role: Role, port?: number): Promise<RoleProcess> {
    const listen = port ?? (await freePort());
    const dataDir = path.join(this.options.dir, name);
    fs.mkdirSync(dataDir, { recursive: true });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dataDir,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_MIGRATE: 'false',
      LOG_LEVEL: 'warn',
      ...this.options.env,
      ...(role === 'api' ? { PORT: String(listen) } : { PORT: '0', VIGIL_OPS_PORT: String(listen) }),
    };
    for (const key of ['VIGIL_MODELS_DIR', 'VIGIL_MODEL_PROFILE'] as const)
      if (process.env[key] && !env[key]) env[key] = process.env[key];
    const child = spawn(process.execPath, [VIGIL, 'serve', '--role', role], {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#every.push(child);
    const proc: RoleProcess = {
      name,
      role,
      port: listen,
      child,
      output: '',
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    const keep = (chunk: Buffer) => {
      proc.output = (proc.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#byName.set(name, proc);
    return proc;
  }

  get(name: string): RoleProcess {
    const proc = this.#byName.get(name);
    if (!proc) throw new Error(`no process named ${name}`);
    return proc;
  }

  get all(): RoleProcess[] {
    return [...this.#byName.values()];
  }

  /** Waits until the process answers 200 on /ready; fails at once if it exits first. */
  async ready(proc: RoleProcess, timeoutMs = 150_000): Promise<void> {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null)
          throw new Error(`${proc.name} exited before it was ready:\n${proc.output}`);
        const response = await fetch(`http://127.0.0.1:${proc.port}/ready`).catch(() => undefined);
        return response?.status === 200;
      },
      timeoutMs,
      100,
    );
  }

  /** SIGKILL to the process alone (its children, ffmpeg, are left as orphans), and waits for its exit. */
  async kill(name: string): Promise<void> {
    const proc = this.get(name);
    proc.child.kill('SIGKILL');
    const exit = await proc.exited;
    if (exit.signal !== 'SIGKILL') throw new Error(`${name} exited by itself:\n${proc.output}`);
  }

  /** A new process of the same name and role on the same port, as a supervisor restarts a dead one. */
  restart(name: string): Promise<RoleProcess> {
    const proc = this.get(name);
    return this.start(name, proc.role, proc.port);
  }

  /** A process's /metrics samples (the API's need a bearer token). */
  async scrape(proc: RoleProcess, token?: string) {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(`http://127.0.0.1:${proc.port}/metrics`, { headers });
    if (response.status !== 200) throw new Error(`${proc.name} /metrics answered ${response.status}`);
    return parsePrometheusText(await response.text()).samples;
  }

  /** SIGKILL to every process group still running (afterAll), orphans included, and waits for them. */
  async killAll(): Promise<void> {
    for (const child of this.#every) {
      if (!child.pid) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {} // the group is gone
    }
    await Promise.all(
      this.#every.map((child) =>
        child.exitCode === null && child.signalCode === null
          ? new Promise((resolve) => child.once('exit', resolve))
          : undefined,
      ),
    );
  }
}

/** Every running (not zombie) ffmpeg process: pid, parent pid and command line, read from /proc. */
function ffmpegProcesses(): { pid: number; ppid: number; cmdline: string }[] {
  const found: { pid: number; ppid: number; cmdline: string }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // stat: "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.split('\0')[0]?.includes('ffmpeg'))
        found.push({ pid: Number(entry), ppid: Number(ppid), cmdline });
    } catch {} // exited between the listing and the read
  }
  return found;
}

/** Pids of the running ffmpeg processes whose parent is `parentPid`. */
export function ffmpegChildren(parentPid: number): number[] {
  return ffmpegProcesses()
    .filter((p) => p.ppid === parentPid)
    .map((p) => p.pid);
}

/** Pids of the running ffmpeg processes reading `file`, whoever their parent (orphans included). */
export function ffmpegsReading(file: string): number[] {
  return ffmpegProcesses()
    .filter((p) => p.cmdline.includes(file))
    .map((p) => p.pid);
}
