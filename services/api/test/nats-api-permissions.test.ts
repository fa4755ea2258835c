import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CropPayload } from '@vigil/contract';
import { NatsBus, subject } from '@vigil/core';
import { freePort, waitFor } from '@vigil/core/testing';
import { publishCropUpgraded } from '@vigil/matcher';
import { type Alert, decodeAlert, encodeAlert } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertFeed } from '../src/realtime/alert-feed.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const natsServerInstalled = () => spawnSync('nats-server', ['--version']).status === 0;
const CONFIG = fs.readFileSync(path.join(ROOT, 'deploy/nats/nats-server.conf'), 'utf8');

/** One `<ROLE>_PERMISSIONS: {...}` block of the deploy config, verbatim. */
function permissionsBlock(role: string): string {
  const block = new RegExp(`^${role}_PERMISSIONS: \\{\\n[\\s\\S]*?\\n\\}`, 'm').exec(CONFIG)?.[0];
  if (!block) throw new Error(`no ${role}_PERMISSIONS in nats-server.conf`);
  return block;
}

const alert = (deploymentId: string, subjectId: string, id: string): Alert =>
  decodeAlert(
    encodeAlert({
      id,
      deploymentId,
      cameraId: crypto.randomUUID(),
      subjectId,
      referenceImageId: crypto.randomUUID(),
      trackId: 't',
      label: 'Jane Roe',
      category: 'wanted',
      priority: 'red',
      score: 0.7,
      threshold: 0.5,
      capturedAtMs: Date.now(),
      createdAtMs: Date.now(),
      probeJpeg: new Uint8Array(),
    }),
  );

/**
 * Issue #22 items 3 and 8 on a nats-server holding deploy/nats/nats-server.conf's own permission
 * blocks: the api user may fan alerts and access changes out to other API processes, and erase
 * alerts from the stream; the matcher stores them.
 */
describe.skipIf(!natsServerInstalled())('the api NATS user of deploy/nats/nats-server.conf', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nats-api-'));
  let server: ChildProcess | undefined;
  let port = 0;
  const buses: NatsBus[] = [];
  const connectAs = async (user: string) => {
    const bus = await NatsBus.connect({
      url: `nats://127.0.0.1:${port}`,
      user,
      password: `${user}-password`,
    });
    buses.push(bus);
    return bus;
  };

  beforeAll(async () => {
    port = await freePort();
    const config = path.join(dir, 'nats.conf');
    fs.writeFileSync(
      config,
      [
        `listen: 127.0.0.1:${port}`,
        `jetstream { store_dir: "${path.join(dir, 'store')}" }`,
        permissionsBlock('MATCHER'),
        permissionsBlock('API'),
        'accounts { VIGIL: { jetstream: enabled, users: [',
        '  { user: matcher, password: matcher-password, permissions: $MATCHER_PERMISSIONS }',
        '  { user: api, password: api-password, permissions: $API_PERMISSIONS }',
        '] } }',
      ].join('\n'),
    );
    server = spawn('nats-server', ['-c', config], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      15_000,
      100,
    );
  });

  afterAll(async () => {
    for (const bus of buses) await bus.close().catch(() => {});
    server?.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fans live alerts and events out between API processes', async () => {
    const one = new AlertFeed(await connectAs('api'));
    const other = new AlertFeed(await connectAs('api'));
    const heard: string[] = [];
    other.subscribe({
      alert: (a) => {
        heard.push(`alert:${a.id}`);
      },
      event: (e) => {
        heard.push(`event:${e.type}`);
      },
      crop: (c) => {
        heard.push(`crop:${c.alertId}`);
      },
    });
    await buses[1]!.flush();
    const deploymentId = crypto.randomUUID();
    const message = alert(deploymentId, crypto.randomUUID(), '41');
    one.publishAlert(message, encodeAlert(message));
    one.publishEvent(undefined, { type: 'access', payload: { userId: crypto.randomUUID() } });
    one.publishEvent(deploymentId, { type: 'access', payload: { deploymentId } });
    await one.flush();
    await waitFor(() => heard.length === 3, 5000);
    expect(heard).toEqual(['alert:41', 'event:access', 'event:access']);
  });

  it("erases a subject's alerts that the matcher stored", async () => {
    const matcher = await connectAs('matcher');
    const api = new AlertFeed(await connectAs('api'));
    const deploymentId = crypto.randomUUID();
    const gone = crypto.randomUUID();
    const kept = crypto.randomUUID();
    for (const [id, subjectId] of [
      ['1', gone],
      ['2', kept],
      ['3', gone],
    ] as const) {
      const message = alert(deploymentId, subjectId, id);
      await matcher.durable.publish(subject('alerts', deploymentId, message.cameraId), encodeAlert(message));
    }
    expect(await api.eraseAlerts((a) => a.subjectId === gone)).toBe(2);
    const left: string[] = [];
    await api.eraseAlerts((a) => {
      left.push(a.subjectId);
      return false;
    });
    expect(left).toEqual([kept]);
  });

  it("hears the matcher's notice that an alert's crop was replaced (issue #21 item 3)", async () => {
    const matcher = await connectAs('matcher');
    const api = new AlertFeed(await connectAs('api'));
    const heard: CropPayload[] = [];
    api.subscribe({ alert: () => {}, event: () => {}, crop: (c) => void heard.push(c) });
    await api.flush();
    const deploymentId = crypto.randomUUID();
    publishCropUpgraded(matcher, { alertId: '7', deploymentId, cameraId: crypto.randomUUID() });
    await matcher.flush();
    await waitFor(() => heard.length === 1, 5000);
    expect(heard).toEqual([{ alertId: '7', deploymentId }]);
  });
});
