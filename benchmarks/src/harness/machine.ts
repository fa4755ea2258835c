import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const require = createRequire(import.meta.url);

/** The machine and software a result was measured on. */
export interface MachineFacts {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  /** 1-minute load average when the run started: other work on the machine skews timings. */
  loadAverage: number;
  node: string;
  versions: Record<string, string>;
}

function packageVersion(name: string): string {
  try {
    // Packages whose `exports` hide package.json (sharp, PGlite): walk up from their entry point.
    let dir = path.dirname(require.resolve(name));
    while (dir !== path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (fs.existsSync(file)) {
        const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (manifest.name === name) return manifest.version ?? 'unknown';
      }
      dir = path.dirname(dir);
    }
    return 'unknown';
  } catch {
    return 'absent';
  }
}

/** Versions of the native pieces the figures depend on; PostgreSQL's when `databaseUrl` answers. */
export async function machineFacts(databaseUrl?: string): Promise<MachineFacts> {
  const versions: Record<string, string> = {};
  for (const name of [
    'onnxruntime-node',
    'sharp',
    'pg',
    '@electric-sql/pglite',
    '@electric-sql/pglite-pgvector',
    '@vladmandic/face-api',
    '@tensorflow/tfjs-backend-wasm',
    '@nats-io/transport-node',
  ]) {
    versions[name] = packageVersion(name);
  }
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      const server = await client.query<{ server_version: string }>('SHOW server_version');
      versions.postgresql = server.rows[0]?.server_version ?? 'unknown';
      const vector = await client.query<{ default_version: string }>(
        "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'",
      );
      versions.pgvector = vector.rows[0]?.default_version ?? 'absent';
    } catch {
      versions.postgresql = 'unreachable';
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    node: process.version,
    versions,
  };
}
