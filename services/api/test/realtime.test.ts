import { AuditRepository } from '@vigil/core';
import { backendName, waitFor } from '@vigil/core/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import {
  baseUrlOf,
  type RealtimeTestApp,
  startRealtimeApp,
  type TestDeployment,
} from './realtime-fixtures.js';
import { bearer } from './test-app.js';

describe(`alerts over socket.io (${backendName})`, () => {
  let t: RealtimeTestApp;
  let url: string;
  let assigned: TestDeployment;
  let other: TestDeployment;
  let second: { id: string; token: string };
  const extraApps: FastifyInstance[] = [];

  const client = (token: string | undefined, base?: string) => t.client(token, base);
  const store = (deployment: TestDeployment) => t.store(deployment);

  beforeAll(async () => {
    t = await startRealtimeApp();
    url = t.url;
    assigned = await t.deployment('Assigned');
    other = await t.deployment('Not assigned');
    const operatorId = await t.userId(t.tokens.operator);
    second = await t.operator('second-operator');
    await t.assign(assigned.deploymentId, operatorId);
    await t.assign(assigned.deploymentId, second.id);
  });

  afterAll(async () => {
    for (const app of extraApps) await app.close();
    await t?.close();
  });

  it('refuses a handshake without a token, with a wrong token, and after logout', async () => {
    await expect(client(undefined).connected()).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    await expect(client('not-a-real-token').connected()).rejects.toMatchObject({
      data: { code: 'invalid_token' },
    });
    const revoked = (await t.operator('logged-out')).token;
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(revoked),
    });
    expect(logout.statusCode).toBeLessThan(300);
    await expect(client(revoked).connected()).rejects.toMatchObject({ data: { code: 'invalid_token' } });
    // The main namespace serves nothing, even with a good token.
    const root = await import('socket.io-client').then(({ io }) =>
      io(url, {
        path: '/socket.io',
        auth: { token: t.tokens.admin },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      }),
    );
    await expect(
      new Promise((resolve, reject) => {
        root.once('connect', () => resolve('connected'));
        root.once('connect_error', reject);
      }),
    ).rejects.toBeTruthy();
    root.disconnect();
  });

  it('sends an operator the alerts of deployments they are assigned to and nothing from others', async () => {
    const operator = client(t.tokens.operator);
    const admin = client(t.tokens.admin);
    await Promise.all([operator.connected(), admin.connected()]);
    expect(await operator.subscribe(other.deploymentId)).toMatchObject({
      ok: false,
      error: { code: 'not_assigned' },
    });
    expect(await operator.subscribe(assigned.deploymentId)).toMatchObject({ ok: true, replayed: 0 });
    expect(await admin.subscribe(other.deploymentId)).toMatchObject({ ok: true });
    // Oversight and watchlist managers get no alerts at all.
    const oversight = client(t.tokens.oversight);
    await oversight.connected();
    expect(await oversight.subscribe(assigned.deploymentId)).toMatchObject({ ok: false });

    const hidden = await store(other);
    await waitFor(() => admin.alerts.some((a) => a.id === hidden.id));
    const visible = await store(assigned);
    const received = (await waitFor(() => operator.alerts.find((a) => a.id === visible.id)))!;

    expect(operator.alerts.map((a) => a.id)).toEqual([visible.id]);
    expect(oversight.alerts).toEqual([]);
    expect(Object.keys(received).sort()).toEqual(
      [
        'id',
        'deploymentId',
        'cameraId',
        'subjectId',
        'label',
        'category',
        'priority',
        'score',
        'threshold',
        'capturedAt',
        'probeImage',
        'referenceImageUrl',
      ].sort(),
    );
    expect(received).toMatchObject({
      deploymentId: assigned.deploymentId,
      cameraId: assigned.cameraId,
      subjectId: assigned.subjectId,
      label: 'Jane Roe',
      category: 'wanted',
      priority: 'red',
      score: 0.6123,
      threshold: 0.5,
      probeImage: `data:image/jpeg;base64,${visible.probe.toString('base64')}`,
      referenceImageUrl: `/api/v1/reference-images/${assigned.referenceImageId}`,
    });
    expect(Number.isNaN(Date.parse(received.capturedAt))).toBe(false);
  });

  it('delivers exactly the missed alerts, in order, to a client that reconnects with since=lastAlertId', async () => {
    const first = client(t.tokens.operator);
    await first.connected();
    await first.subscribe(assigned.deploymentId);
    const seen = await store(assigned);
    await waitFor(() => first.alerts.some((a) => a.id === seen.id));
    first.close();

    const missed = [await store(assigned), await store(assigned), await store(assigned)];
    // Wait until the API has taken them off the stream, so they would have been pushed to a listener.
    const watcher = client(t.tokens.admin);
    await watcher.connected();
    await watcher.subscribe(assigned.deploymentId, seen.id);
    await waitFor(() => watcher.alerts.length === 3);

    const again = client(t.tokens.operator);
    await again.connected();
    const ack = await again.subscribe(assigned.deploymentId, seen.id);
    expect(ack).toMatchObject({ ok: true, replayed: 3 });
    expect(again.alerts.map((a) => a.id)).toEqual(missed.map((m) => m.id));
    expect(again.alerts[1]!.probeImage).toBe(`data:image/jpeg;base64,${missed[1]!.probe.toString('base64')}`);

    // The live feed goes on after the replay, without repeating anything.
    const live = await store(assigned);
    await waitFor(() => again.alerts.some((a) => a.id === live.id));
    expect(again.alerts.map((a) => a.id)).toEqual([...missed.map((m) => m.id), live.id]);
  });

  it('broadcasts an adjudication to a second operator and records it in the audit trail', async () => {
    const one = client(t.tokens.operator);
    const two = client(second.token);
    await Promise.all([one.connected(), two.connected()]);
    await one.subscribe(assigned.deploymentId);
    await two.subscribe(assigned.deploymentId);
    const alert = await store(assigned);
    await waitFor(() => two.alerts.some((a) => a.id === alert.id));

    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${alert.id}/adjudication`,
      headers: bearer(t.tokens.operator),
      payload: { outcome: 'confirmed', note: 'stopped at the gate' },
    });
    expect(response.statusCode).toBe(201);
    const heard = await waitFor(() => two.adjudications.find((a) => a.alertId === alert.id));
    expect(heard).toMatchObject({
      alertId: alert.id,
      deploymentId: assigned.deploymentId,
      outcome: 'confirmed',
      note: 'stopped at the gate',
      username: 'operator-user',
    });
    expect(heard).toEqual(response.json());
    const audit = await new AuditRepository(t.deps.db).list({ action: 'alert.adjudicate' });
    expect(JSON.stringify(audit)).toContain(alert.id);
  });

  it('delivers every alert to the sockets of each of several API processes, and after a restart', async () => {
    // A second API process over the same database and bus, sharing the durable consumer.
    const peer = await buildApp(t.deps);
    extraApps.push(peer);
    await peer.listen({ port: 0, host: '127.0.0.1' });
    const onFirst = client(t.tokens.operator);
    const onPeer = client(second.token, baseUrlOf(peer));
    await Promise.all([onFirst.connected(), onPeer.connected()]);
    await onFirst.subscribe(assigned.deploymentId);
    await onPeer.subscribe(assigned.deploymentId);
    const alerts = [await store(assigned), await store(assigned), await store(assigned)];
    await waitFor(() => onFirst.alerts.length === 3 && onPeer.alerts.length === 3);
    expect(onPeer.alerts.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(onFirst.alerts.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());

    // An adjudication recorded on one process reaches clients on the other.
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${alerts[0]!.id}/adjudication`,
      headers: bearer(t.tokens.operator),
      payload: { outcome: 'false_alert' },
    });
    await waitFor(() => onPeer.adjudications.some((a) => a.alertId === alerts[0]!.id));

    // The peer goes away; its client comes back on a restarted process and misses nothing.
    const lastSeen = onPeer.alerts
      .map((a) => a.id)
      .sort((a, b) => Number(a) - Number(b))
      .at(-1)!;
    onPeer.close();
    await peer.close();
    const whileDown = await store(assigned);
    const restarted = await buildApp(t.deps);
    extraApps.push(restarted);
    await restarted.listen({ port: 0, host: '127.0.0.1' });
    const back = client(second.token, baseUrlOf(restarted));
    await back.connected();
    expect(await back.subscribe(assigned.deploymentId, lastSeen)).toMatchObject({ ok: true, replayed: 1 });
    expect(back.alerts.map((a) => a.id)).toEqual([whileDown.id]);
  });
});
