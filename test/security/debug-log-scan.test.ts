import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, loadConfig } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase, waitFor } from '@vigil/core/testing';
import { type System, startSystem } from '@vigil/system';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authoriseDeployment, createAuthoriser } from '../../services/api/test/authorisation.fixture.js';
import { E2E_THRESHOLD, enrolmentForm, stillVideo } from '../pipeline/pipeline.fixtures.js';
import { type PrivateNats, startPrivateNats } from './private-nats.js';

const ADMIN_PASSWORD = 'debug-scan-admin-password-1';
const OPERATOR_PASSWORD = 'correct-lantern-47-harbour';

/** What must never reach a log line, each with why. */
const FORBIDDEN: [what: string, pattern: RegExp][] = [
  ['a bearer token', /bearer\s+[A-Za-z0-9._~+/-]{16,}/i],
  ['a data: image URL', /data:image\//i],
  ['a base64 JPEG', /\/9j\/[A-Za-z0-9+/]{40,}/],
  ['a long base64 run', /[A-Za-z0-9+/]{160,}={0,2}/],
  ['a float vector (a run of decimal numbers)', /(-?\d+\.\d{3,}(e-?\d+)?\s*,\s*){15,}/i],
  ['a byte array (a run of small integers)', /(\b\d{1,3}\s*,\s*){64,}/],
];

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below.
type Json = any;

describe(`debug-level log scan of a whole pipeline run (${backendName})`, () => {
  let dir: string;
  let testDb: TestDatabase | undefined;
  let nats: PrivateNats | undefined;
  let system: System;
  const lines: string[] = [];
  const restore: (() => void)[] = [];

  /** Every byte written to stdout and stderr (worker threads included) and every logger line. */
  function capture(stream: NodeJS.WriteStream): void {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = original as typeof stream.write;
    });
  }

  async function call(token: string | undefined, method: string, route: string, body?: unknown) {
    const init: RequestInit = { method, headers: token ? { authorization: `Bearer ${token}` } : {} };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(`${system.url}/api/v1${route}`, init);
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : undefined) as Json };
  }

  async function login(username: string, password: string): Promise<string> {
    const response = await call(undefined, 'POST', '/auth/login', { username, password });
    expect(response.status).toBe(200);
    return response.json.token as string;
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-log-scan-'));
    if (process.env.DATABASE_URL) testDb = await createTestDatabase();
    // Its own nats-server: every frame goes through this system's workers, and every line is captured here.
    nats = await startPrivateNats();
    capture(process.stdout);
    capture(process.stderr);
    const config = loadConfig({
      PORT: '0',
      LOG_LEVEL: 'debug',
      VIGIL_DATA_DIR: path.join(dir, 'data'),
      VIGIL_DATA_KEY: randomBytes(32).toString('base64'),
      VIGIL_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...(testDb?.url ? { DATABASE_URL: testDb.url } : {}),
      ...(nats ? { NATS_URL: nats.url } : process.env.NATS_URL ? { NATS_URL: process.env.NATS_URL } : {}),
    });
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(...String(chunk).split('\n').filter(Boolean));
          done();
        },
      }),
    });
    system = await startSystem({ config, roles: ['all'], logger });
    await waitFor(async () => (await fetch(`${system.url}/ready`)).status === 200, 120_000, 250);
  }, 180_000);

  afterAll(async () => {
    await system?.stop();
    for (const undo of restore) undo();
    await testDb?.drop();
    await nats?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('logs no token, password, image or vector, and nothing about faces that matched nothing, through enrol, alert, login, adjudication and logout', async () => {
    const video = stillVideo(dir, 'camera.mp4', 4);

    const admin = await login('admin', ADMIN_PASSWORD);
    const operator = await call(admin, 'POST', '/users', {
      username: 'scan-operator',
      password: OPERATOR_PASSWORD,
      role: 'operator',
    });
    expect(operator.status, JSON.stringify(operator.json)).toBe(201);
    // A failed login too: its password must not be logged either.
    const wrongPassword = `wrong-${randomBytes(8).toString('hex')}`;
    expect(
      (await call(undefined, 'POST', '/auth/login', { username: 'scan-operator', password: wrongPassword }))
        .status,
    ).toBe(401);

    const watchlist = await call(admin, 'POST', '/watchlists', { name: 'Scan list' });
    const form = enrolmentForm(dir);
    const enrolled = await call(admin, 'POST', `/watchlists/${watchlist.json.id}/subjects`, form);
    expect(enrolled.status, JSON.stringify(enrolled.json)).toBe(201);
    const deployment = await call(admin, 'POST', '/deployments', {
      name: 'Scan',
      location: 'lab',
      threshold: E2E_THRESHOLD,
      watchlistIds: [watchlist.json.id],
    });
    expect(deployment.status).toBe(201);
    const id = deployment.json.id as string;
    expect(
      (await call(admin, 'POST', `/deployments/${id}/operators`, { userIds: [operator.json.id] })).status,
    ).toBeLessThan(300);
    const camera = await call(admin, 'POST', `/deployments/${id}/cameras`, {
      name: 'door',
      url: video,
      fps: 2,
      loop: false,
    });
    expect(camera.status).toBe(201);
    const as = (token: string) => (method: string, route: string, body?: unknown) =>
      call(token, method, route, body);
    await authoriseDeployment(as(admin), await createAuthoriser(as(admin), as), id);
    expect((await call(admin, 'POST', `/deployments/${id}/start`)).status).toBe(200);

    const operatorToken = await login('scan-operator', OPERATOR_PASSWORD);
    // The operator's console: the token travels in the socket.io handshake, the probe crop in the alert.
    const socket = io(`${system.url}/alerts`, {
      path: '/socket.io',
      auth: { token: operatorToken },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const liveProbes: string[] = [];
    socket.on('alert', (alert: { probeImage: string }) => void liveProbes.push(alert.probeImage));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.emitWithAck('subscribe', { deploymentId: id })).toMatchObject({ ok: true });
    const alerts = (await waitFor(
      async () => {
        const list = await call(operatorToken, 'GET', `/deployments/${id}/alerts`);
        return list.json?.alerts?.length > 0 ? (list.json.alerts as Json[]) : undefined;
      },
      90_000,
      250,
    )) as Json[];
    await waitFor(() => liveProbes.length > 0, 30_000, 100);
    expect(liveProbes[0]).toMatch(/^data:image\/jpeg;base64,/);
    const adjudicated = await call(operatorToken, 'POST', `/alerts/${alerts[0].id}/adjudication`, {
      outcome: 'confirmed',
      note: 'seen at the door',
    });
    expect(adjudicated.status).toBeLessThan(300);
    // Read while the deployment runs: a stopped deployment's series leave the registry.
    const facesProcessed =
      (await system.metrics.registry.getSingleMetric('vigil_faces_processed_total')?.get())?.values.reduce(
        (n, v) => n + v.value,
        0,
      ) ?? 0;
    socket.close();
    expect((await call(admin, 'POST', `/deployments/${id}/stop`)).status).toBe(200);
    expect((await call(operatorToken, 'POST', '/auth/logout')).status).toBeLessThan(300);
    expect((await call(operatorToken, 'GET', '/auth/me')).status).toBe(401);
    // Let the camera's ffmpeg and the workers finish what they hold, so their lines are in.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const { rows } = await system.db.query<{ track_id: string }>('SELECT DISTINCT track_id FROM alerts');
    const alertTracks = new Set(rows.map((r) => r.track_id));
    // Non-matching faces went through: sample1 shows five people and one is enrolled.
    expect(facesProcessed).toBeGreaterThan(alertTracks.size);

    const secrets: [string, string][] = [
      ["a live alert's probe crop", (liveProbes[0] as string).slice('data:image/jpeg;base64,'.length, 80)],
      ['the admin password', ADMIN_PASSWORD],
      ['the operator password', OPERATOR_PASSWORD],
      ['a wrong password', wrongPassword],
      ['the admin token', admin],
      ['the operator token', operatorToken],
    ];
    const debugLines = lines.filter((line) => /"level":20\b/.test(line));
    expect(lines.length).toBeGreaterThan(20);
    expect(debugLines.length, 'debug logging was on').toBeGreaterThan(0);
    for (const line of lines) {
      for (const [what, secret] of secrets)
        expect(line.includes(secret), `${what} in: ${line.slice(0, 300)}`).toBe(false);
      for (const [what, pattern] of FORBIDDEN)
        expect(pattern.test(line), `${what} in: ${line.slice(0, 300)}`).toBe(false);
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      for (const [key, value] of walk(entry)) {
        if (/^(embedding|vector|probe|probeImage|crop|jpeg|image)$/i.test(key))
          expect(
            value === '[redacted]' || value === undefined,
            `${key} logged in: ${line.slice(0, 300)}`,
          ).toBe(true);
        if (/^track(_?id)?$/i.test(key) && value !== undefined)
          expect(
            alertTracks.has(String(value)),
            `a non-matching face's track ${String(value)} in: ${line.slice(0, 300)}`,
          ).toBe(true);
      }
    }
  });
});

/** Every [key, value] pair of a parsed log entry, at any depth. */
function* walk(value: unknown): Generator<[string, unknown]> {
  if (Array.isArray(value)) for (const item of value) yield* walk(item);
  else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) {
      yield [key, inner];
      yield* walk(inner);
    }
}
