import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '@vigil/core';
import { freePort } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.mjs');

interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VIGIL, ...args], { env }, (error, stdout, stderr) => {
      const status = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

// Security review, issue #22 item 10: `vigil audit verify` (and retention run, keys rotate, reembed)
// opened the embedded database of a running server and reported success.
describe('the embedded data directory, one process at a time', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let lockFile: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-lock-'));
    lockFile = path.join(dataDir, 'db.lock');
    // Embedded mode whatever the test run's environment says.
    env = {
      ...process.env,
      VIGIL_DATA_DIR: dataDir,
      DATABASE_URL: '',
      NATS_URL: '',
      VIGIL_DATA_KEY: '',
      VIGIL_ADMIN_PASSWORD: 'correct horse battery staple',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
    };
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('refuses audit verify, retention run, keys rotate and reembed while the server runs, and verifies once it stops', async () => {
    const port = await freePort();
    const server = spawn(process.execPath, [VIGIL, 'serve'], {
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let serverErrors = '';
    server.stderr.on('data', (chunk) => {
      serverErrors += chunk;
    });
    try {
      await waitForHealth(`http://127.0.0.1:${port}/health`, 90_000);
      for (const args of [['audit', 'verify'], ['retention', 'run'], ['keys', 'rotate'], ['reembed']]) {
        const result = await cli(args, env);
        expect(result.stderr, args.join(' ')).toContain('vigil: database_in_use:');
        expect(result.stderr).toContain(`pid ${server.pid}`);
        expect(result.status, args.join(' ')).toBe(75);
        expect(result.stdout).toBe('');
      }
      // keys rotate refused before staging a new key.
      expect(fs.existsSync(path.join(dataDir, 'vigil-data.key.next'))).toBe(false);
      expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(server.pid));
    } finally {
      server.kill('SIGTERM');
      if (server.exitCode === null && server.signalCode === null) await once(server, 'exit');
    }
    expect(server.exitCode, serverErrors).toBe(0);
    expect(fs.existsSync(lockFile)).toBe(false);

    const after = await cli(['audit', 'verify'], env);
    expect(after.stderr).toBe('');
    expect(after.stdout).toMatch(
      /^audit trail intact: \d+ entries, (held to the checkpoint signed .+|no signed checkpoint yet)\n$/,
    );
    expect(after.status).toBe(0);
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 180_000);

  it('takes over a lock left by a process that is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    fs.writeFileSync(lockFile, `${gone.pid}\n`);
    const result = await cli(['audit', 'verify'], env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 60_000);

  it('refuses a second open of the same directory while the first is open, in this process too', async () => {
    const db = await openDatabase({ dataDir, migrate: false });
    try {
      expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(process.pid));
      await expect(openDatabase({ dataDir, migrate: false })).rejects.toMatchObject({
        code: 'database_in_use',
      });
      const result = await cli(['audit', 'verify'], env);
      expect(result.stderr).toContain(`database_in_use`);
      expect(result.status).toBe(75);
    } finally {
      await db.close();
    }
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 60_000);
});
