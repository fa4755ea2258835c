/**
 * What `npm start` prints (issue #23): at a terminal, lines a person reads (where the console is, the
 * generated admin password once, each warning once); JSON lines when stdout is not a terminal.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@vigil/core/testing';
import { afterEach, describe, expect, it } from 'vitest';

const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.mjs');
const DATA_KEY_WARNING = 'VIGIL_DATA_KEY is unset';
const hasScript = spawnSync('script', ['--version']).status === 0;

interface Server {
  child: ChildProcess;
  output(): string;
  dataDir: string;
}

const running: Server[] = [];

/** `vigil serve` on the embedded defaults with no admin password and no data key, as on a first start. */
function serve(port: number, options: { terminal: boolean; env?: NodeJS.ProcessEnv }): Server {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-serve-output-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VIGIL_DATA_DIR: dataDir,
    DATABASE_URL: '',
    NATS_URL: '',
    VIGIL_DATA_KEY: '',
    VIGIL_ADMIN_PASSWORD: '',
    VIGIL_LOG_FORMAT: '',
    LOG_LEVEL: '',
    HOST: '127.0.0.1',
    PORT: String(port),
    ...options.env,
  };
  for (const [key, value] of Object.entries(env)) if (value === '') delete env[key];
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(VIGIL)} serve`;
  // util-linux `script` gives the server a pseudo-terminal for stdout, as a terminal window does.
  const child = options.terminal
    ? spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [VIGIL, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  const server = { child, dataDir, output: () => stdout.replace(/\r\n/g, '\n') };
  running.push(server);
  return server;
}

async function waitForOutput(server: Server, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${server.output()}`);
    if (server.child.exitCode !== null) throw new Error(`the server exited:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms`);
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

afterEach(async () => {
  for (const server of running.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(server.dataDir, { recursive: true, force: true });
  }
});

describe('vigil serve start-up output (issue #23)', () => {
  it.runIf(hasScript)(
    'at a terminal prints where the console is, the admin password once and the data-key warning once, in words',
    async () => {
      const port = await freePort();
      const server = serve(port, { terminal: true });
      await waitForOutput(server, /Stop: +Ctrl\+C/, 120_000);
      await waitForReady(`http://127.0.0.1:${port}/ready`, 60_000);
      const output = server.output();
      expect(output).toContain(`Console:   http://127.0.0.1:${port}`);
      const password = /Log in as: admin, password (\S+)/.exec(output)?.[1];
      expect(password).toBeTruthy();
      expect(count(output, password ?? 'no password')).toBe(1);
      // The matcher and the API both seal images: the key is loaded, and warned about, once.
      expect(count(output, DATA_KEY_WARNING)).toBe(1);
      expect(output).toMatch(/^\d\d:\d\d:\d\d WARN {2}VIGIL_DATA_KEY is unset/m);
      expect(output.split('\n').filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
      // The password logs in.
      const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });
      expect(login.status).toBe(200);
    },
    180_000,
  );

  it('prints JSON lines when stdout is not a terminal, the warning and the password once each', async () => {
    const port = await freePort();
    const server = serve(port, { terminal: false });
    await waitForReady(`http://127.0.0.1:${port}/ready`, 120_000);
    await waitForOutput(server, /Vigil API listening/, 10_000);
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.trim() !== '');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((r) => String(r.msg).includes(DATA_KEY_WARNING))).toHaveLength(1);
    const announced = records.filter((r) => typeof r.generatedPassword === 'string');
    expect(announced).toHaveLength(1);
    expect(count(server.output(), String(announced[0]?.generatedPassword))).toBe(1);
    expect(records.some((r) => r.msg === 'Vigil API listening' && r.url === `http://127.0.0.1:${port}`)).toBe(
      true,
    );
  }, 180_000);

  it('prints text without a terminal when VIGIL_LOG_FORMAT=text, and JSON at a terminal when VIGIL_LOG_FORMAT=json', async () => {
    const port = await freePort();
    const server = serve(port, { terminal: false, env: { VIGIL_LOG_FORMAT: 'text' } });
    await waitForOutput(server, /Stop: +Ctrl\+C/, 120_000);
    expect(server.output()).toContain(`Console:   http://127.0.0.1:${port}`);
    expect(
      server
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{')),
    ).toEqual([]);
    if (!hasScript) return;
    const jsonPort = await freePort();
    const json = serve(jsonPort, { terminal: true, env: { VIGIL_LOG_FORMAT: 'json' } });
    await waitForReady(`http://127.0.0.1:${jsonPort}/ready`, 120_000);
    await waitForOutput(json, /Vigil API listening/, 10_000);
    for (const line of json
      .output()
      .split('\n')
      .filter((l) => l.trim() !== ''))
      expect(() => JSON.parse(line), line).not.toThrow();
  }, 240_000);
});
