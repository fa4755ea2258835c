import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parsePrometheusText } from '@vigil/core';
import { backendName, createTestDatabase, freePort, waitFor } from '@vigil/core/testing';
import { startSystem } from '@vigil/system';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const split = Boolean(process.env.NATS_URL && process.env.DATABASE_URL);

describe(`ops listener of a worker role (${backendName})`, () => {
  it('startSystem with VIGIL_OPS_PORT serves /ready and /metrics, and is not ready once stopping', async () => {
    // PostgreSQL: a fresh database; embedded: PGlite in the data dir, as a van laptop runs it.
    const testDb = process.env.DATABASE_URL ? await createTestDatabase() : undefined;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ops-'));
    const opsPort = await freePort();
    const token = `scrape-${randomUUID()}`;
    const config = loadConfig({
      VIGIL_DATA_DIR: dataDir,
      VIGIL_OPS_PORT: String(opsPort),
      VIGIL_METRICS_TOKEN: token,
      LOG_LEVEL: 'silent',
      ...(testDb?.url ? { DATABASE_URL: testDb.url } : {}),
      ...(process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
    });
    const system = await startSystem({ config, roles: ['matcher'] });
    const ops = `http://127.0.0.1:${opsPort}`;
    try {
      const ready = await fetch(`${ops}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { database: { ok: true }, bus: { ok: true } },
      });
      const scraped = await fetch(`${ops}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const { samples } = parsePrometheusText(await scraped.text());
      expect(samples.find((s) => s.name === 'vigil_process_start_time_seconds')?.labels.role).toBe('matcher');
    } finally {
      await system.stop();
      await testDb?.drop().catch(() => {});
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
    expect(await system.readiness.check()).toMatchObject({ ready: false });
    expect((await system.readiness.check()).checks).toContainEqual({
      name: 'shutdown',
      ok: false,
      error: 'shutting_down',
    });
    await expect(fetch(`${ops}/health`)).rejects.toThrow();
  });

  // `vigil serve --role matcher` needs NATS and PostgreSQL; the embedded run covers startSystem above.
  it('vigil serve --role matcher answers on the ops port and exits 0 on SIGTERM (PostgreSQL + NATS)', async () => {
    if (!split) {
      expect(backendName).toBe('pglite+memory-bus');
      return;
    }
    const role = 'matcher';
    const testDb = await createTestDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ops-'));
    const opsPort = await freePort();
    const token = `scrape-${randomUUID()}`;
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'services/cli/bin/vigil.mjs'), 'serve', '--role', role],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: dataDir,
          VIGIL_DATA_DIR: dataDir,
          VIGIL_OPS_PORT: String(opsPort),
          VIGIL_METRICS_TOKEN: token,
          VIGIL_ADMIN_PASSWORD: 'ops listener test password',
          PORT: '0',
          LOG_LEVEL: 'warn',
          NATS_URL: process.env.NATS_URL,
          DATABASE_URL: testDb.url,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ops = `http://127.0.0.1:${opsPort}`;
    try {
      const ready = (await waitFor<Response | undefined>(
        async () => {
          if (child.exitCode !== null) throw new Error(`vigil exited early: ${output}`);
          const response = await fetch(`${ops}/ready`).catch(() => undefined);
          return response?.status === 200 ? response : undefined;
        },
        120_000,
        250,
      )) as Response;
      const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
      expect(body.status).toBe('ready');
      expect(body.checks.database).toEqual({ ok: true });
      expect(body.checks.bus).toEqual({ ok: true });
      expect((await fetch(`${ops}/health`)).status).toBe(200);

      expect((await fetch(`${ops}/metrics`)).status).toBe(401);
      const scraped = await fetch(`${ops}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(scraped.status).toBe(200);
      const { samples } = parsePrometheusText(await scraped.text());
      const start = samples.find((s) => s.name === 'vigil_process_start_time_seconds');
      expect(start?.labels.role).toBe(role);
      expect(start?.value).toBeGreaterThan(Date.now() / 1000 - 600);
      expect(samples.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await testDb.drop().catch(() => {});
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
