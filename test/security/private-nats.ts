import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type Bus, openBus } from '@vigil/core';
import { createTestBus, freePort, waitFor } from '@vigil/core/testing';

export interface IsolatedBus {
  bus: Bus;
  close(): Promise<void>;
}

export interface PrivateNats {
  /** nats://127.0.0.1:PORT of a nats-server only this test uses. */
  url: string;
  close(): Promise<void>;
}

export interface NatsServer extends PrivateNats {
  readonly port: number;
  /** Stops the server (SIGTERM) and waits for it to exit; clients see their connection drop. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store, as an operator restarting it would. */
  start(): Promise<void>;
}

/** True when a `nats-server` binary is on the PATH. */
export function natsServerInstalled(): boolean {
  return spawnSync('nats-server', ['--version']).status === 0;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A nats-server of this test's own (JetStream on, a free port), which the test may stop and start. */
export async function startNatsServer(): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nats-'));
  let server: ChildProcess | undefined;
  const start = async () => {
    server = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      stdio: 'ignore',
    });
    await waitFor(() => acceptsConnections(port), 15_000, 100);
  };
  const stop = async () => {
    const running = server;
    server = undefined;
    if (!running || running.exitCode !== null) return;
    running.kill('SIGTERM');
    await new Promise((resolve) =>
      running.exitCode !== null ? resolve(null) : running.once('exit', resolve),
    );
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    start,
    stop,
    async close() {
      await stop();
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/**
 * Worker queue groups (`detector`, `embedder`, `matcher`) span every subscriber of a nats-server
 * whatever its subject, so on the shared server of NATS_URL another process's `vigil serve` would
 * take part of a test's frames. With NATS_URL set, this starts a private nats-server (the same
 * binary, JetStream on, a free port) when one is on the PATH; undefined otherwise.
 */
export async function startPrivateNats(): Promise<PrivateNats | undefined> {
  if (!process.env.NATS_URL || !natsServerInstalled()) return undefined;
  return startNatsServer();
}

/** A bus on a private nats-server (see {@link startPrivateNats}), or the test bus when there is none. */
export async function createIsolatedBus(name: string): Promise<IsolatedBus> {
  const nats = await startPrivateNats();
  if (!nats) {
    const bus = await createTestBus(name);
    return { bus, close: () => bus.close() };
  }
  const bus = await openBus({ natsUrl: nats.url, name });
  return {
    bus,
    async close() {
      await bus.close();
      await nats.close();
    },
  };
}
