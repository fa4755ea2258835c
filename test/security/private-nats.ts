import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Bus, openBus } from '@vigil/core';
import { createTestBus, waitFor } from '@vigil/core/testing';

export interface IsolatedBus {
  bus: Bus;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A bus no other process shares. Worker queue groups (`detector`, `embedder`, `matcher`) span every
 * subscriber of a nats-server whatever its subject, so on the shared server of NATS_URL a running
 * `vigil serve` would take half of a test's messages. With NATS_URL set this starts a private
 * nats-server (the same binary, on a free port) when one is on the PATH; otherwise it falls back
 * to the test bus.
 */
export async function createIsolatedBus(name: string): Promise<IsolatedBus> {
  if (!process.env.NATS_URL || spawnSync('nats-server', ['--version']).status !== 0) {
    const bus = await createTestBus(name);
    return { bus, close: () => bus.close() };
  }
  const port = await freePort();
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nats-'));
  const server: ChildProcess = spawn(
    'nats-server',
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
    {
      stdio: 'ignore',
    },
  );
  const url = `nats://127.0.0.1:${port}`;
  const bus = (await waitFor(
    () => openBus({ natsUrl: url, name }).catch(() => undefined),
    15_000,
    100,
  )) as Bus;
  return {
    bus,
    async close() {
      await bus.close();
      server.kill('SIGTERM');
      await new Promise((resolve) =>
        server.exitCode !== null ? resolve(null) : server.once('exit', resolve),
      );
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
