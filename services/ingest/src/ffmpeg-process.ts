import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

let resolved: string | undefined;

/** The system `ffmpeg` when one is on PATH, else the static build `@ffmpeg-installer/ffmpeg` ships. */
export function ffmpegPath(): string {
  if (resolved) return resolved;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'ffmpeg');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      resolved = candidate;
      return candidate;
    } catch {}
  }
  const require = createRequire(import.meta.url);
  resolved = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  return resolved;
}

const optionsSeen = new Map<string, boolean>();

/**
 * Whether this ffmpeg knows `option` in `-h <topic>` (e.g. `protocol=http`, `max_redirects`): the
 * static fallback build is older than the system's. Asked once per topic and option.
 */
export function ffmpegHasOption(topic: string, option: string): boolean {
  const key = `${topic} ${option}`;
  let known = optionsSeen.get(key);
  if (known === undefined) {
    const help = spawnSync(ffmpegPath(), ['-hide_banner', '-h', topic], {
      encoding: 'utf8',
      env: ffmpegEnvironment(),
      timeout: 10_000,
    });
    known = new RegExp(`^\\s*-${option}\\s`, 'm').test(help.stdout ?? '');
    optionsSeen.set(key, known);
  }
  return known;
}

export interface FfmpegProcess {
  readonly pid: number | undefined;
  /** Stops with SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface FfmpegHandlers {
  onData(chunk: Buffer): void;
  /** The last lines ffmpeg wrote on stderr before exiting, for the status's error code. */
  onExit(code: number | null, signal: NodeJS.Signals | null, lastError: string): void;
  onSpawnError(error: Error): void;
}

/** Lines of ffmpeg's stderr kept for the status reason. */
const STDERR_LINES_KEPT = 3;

/** Grace ffmpeg gets to flush and close sockets after SIGTERM. */
export const STOP_GRACE_MS = 3000;

/** The only variables ffmpeg inherits: where programs and libraries are, and a neutral locale. */
const FFMPEG_ENVIRONMENT_KEYS = ['PATH', 'LD_LIBRARY_PATH', 'TZ'] as const;

/**
 * ffmpeg's whole environment. ffmpeg parses hostile streams: whoever exploits it gets its
 * environment, so it holds no DATABASE_URL, NATS credentials, data key or admin password.
 */
export function ffmpegEnvironment(from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { LC_ALL: 'C' };
  for (const key of FFMPEG_ENVIRONMENT_KEYS) if (from[key] !== undefined) env[key] = from[key];
  return env;
}

/** Spawns ffmpeg with an argument vector (no shell ever parses a camera URL) and a minimal environment. */
export function spawnFfmpeg(args: string[], handlers: FfmpegHandlers): FfmpegProcess {
  const child: ChildProcess = spawn(ffmpegPath(), args, {
    env: ffmpegEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
    shell: false,
    windowsHide: true,
  });
  let lastError = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      exited = true;
      handlers.onExit(code, signal, lastError);
      resolve();
    });
  });
  child.once('error', (error) => {
    if (!exited) handlers.onSpawnError(error);
  });
  child.stdout?.on('data', (chunk: Buffer) => handlers.onData(chunk));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    // The last few lines: a TLS or name failure is explained a line before ffmpeg's "I/O error".
    const lines = `${lastError}\n${text}`.trim().split('\n').slice(-STDERR_LINES_KEPT);
    lastError = lines.map((line) => line.slice(0, 300)).join('\n');
  });
  return {
    pid: child.pid,
    async stop(graceMs = STOP_GRACE_MS) {
      if (exited || child.exitCode !== null || child.signalCode !== null) return exit;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}
