import { randomBytes } from 'node:crypto';
import type { CropPayload } from '@vigil/contract';
import { AuditRepository, DataCipher } from '@vigil/core';
import { backendName, uniqueToken, waitFor } from '@vigil/core/testing';
import { MatchedAlertRepository, publishCropUpgraded } from '@vigil/matcher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignOperator,
  baseUrlOf,
  createDeployment,
  RecordingClient,
  removeAlertConsumer,
  storeAlert,
  type TestDeployment,
  trackView,
  userId,
} from './realtime-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

/** Issue 22 item 9: every view of a face is audited, and a crop opens only in its own alert's row. */
describe(`alert crops: audited views, bound to their rows (${backendName})`, () => {
  const cipher = new DataCipher(randomBytes(32));
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;
  let deployment: TestDeployment;
  let operatorId: string;
  let alertIds: string[];
  const clients: RecordingClient[] = [];

  const list = (query: string) =>
    t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.deploymentId}/alerts?${query}`,
      headers: bearer(t.tokens.operator),
    });
  const cropViews = () => new AuditRepository(t.deps.db).list({ action: 'alert_crop.view' });

  beforeAll(async () => {
    t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    deployment = await createDeployment(t.deps.db, 'Crop views');
    operatorId = await userId(t.app, t.tokens.operator);
    await assignOperator(t.deps.db, deployment.deploymentId, operatorId);
    alertIds = [];
    for (let i = 0; i < 3; i++)
      alertIds.push((await storeAlert(t.deps.db, t.deps.bus, cipher, deployment)).id);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it('listing alerts with includeProbe=true leaves one audit row naming the viewer and the alerts (regression: none)', async () => {
    const before = (await cropViews()).length;
    expect((await list('limit=50')).statusCode).toBe(200);
    expect(await cropViews()).toHaveLength(before);

    const response = await list('limit=50&includeProbe=true');
    expect(response.statusCode).toBe(200);
    expect(
      response.json().alerts.every((a: { probeImage?: string }) => a.probeImage?.startsWith('data:')),
    ).toBe(true);
    const views = await cropViews();
    expect(views).toHaveLength(before + 1);
    expect(views[0]).toMatchObject({
      actorId: operatorId,
      actorName: 'operator-user',
      targetType: 'deployment',
      targetId: deployment.deploymentId,
      details: { via: 'list' },
    });
    expect([...(views[0]?.details.alertIds as string[])].sort()).toEqual([...alertIds].sort());
  });

  it('a socket replay of missed alerts leaves an audit row before the crops are sent (regression: none)', async () => {
    const before = (await cropViews()).length;
    const c = new RecordingClient(baseUrlOf(t.app), t.tokens.operator);
    clients.push(c);
    await c.connected();
    const ack = await c.subscribe(deployment.deploymentId, alertIds[0]);
    expect(ack).toMatchObject({ ok: true, replayed: 2 });
    await waitFor(() => c.alerts.length >= 2);
    const views = await cropViews();
    expect(views).toHaveLength(before + 1);
    expect(views[0]).toMatchObject({
      actorId: operatorId,
      targetId: deployment.deploymentId,
      details: { via: 'socket_replay', alertIds: alertIds.slice(1) },
    });
  });

  it('an alert pushed live to a subscribed console leaves an audit row for that viewer (regression: none)', async () => {
    const c = new RecordingClient(baseUrlOf(t.app), t.tokens.operator);
    clients.push(c);
    await c.connected();
    expect(await c.subscribe(deployment.deploymentId)).toMatchObject({ ok: true });
    const live = await storeAlert(t.deps.db, t.deps.bus, cipher, deployment);
    await waitFor(() => c.alerts.some((alert) => alert.id === live.id), 20_000);
    const views = await cropViews();
    expect(views[0]).toMatchObject({
      actorId: operatorId,
      targetId: deployment.deploymentId,
      details: { via: 'socket_live', alertIds: [live.id] },
    });
    alertIds.push(live.id);
  });

  it('a crop moved into another alert row does not open there, and a crop sealed before binding still does', async () => {
    const [a, b] = alertIds;
    await t.deps.db.query(
      'UPDATE alerts SET encrypted_probe = (SELECT encrypted_probe FROM alerts WHERE id = $1) WHERE id = $2',
      [a, b],
    );
    const swapped = await list('limit=50&includeProbe=true');
    expect(swapped.statusCode).toBe(500);
    expect(swapped.json().error.code).toBe('decryption_failed');

    // A row written before crops were bound (sealed without a context) is still readable.
    const legacy = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
    await t.deps.db.query('UPDATE alerts SET encrypted_probe = $1 WHERE id = $2', [cipher.seal(legacy), b]);
    const readable = await list('limit=50&includeProbe=true');
    expect(readable.statusCode).toBe(200);
    const legacyAlert = readable.json().alerts.find((alert: { id: string }) => alert.id === b);
    expect(legacyAlert.probeImage).toBe(`data:image/jpeg;base64,${legacy.toString('base64')}`);
  });

  it("tells a subscribed console when a better view replaced an alert's crop, and the list serves the new one, audited (issue #21 item 3)", async () => {
    const client = new RecordingClient(baseUrlOf(t.app), t.tokens.operator);
    clients.push(client);
    const notices: CropPayload[] = [];
    client.socket.on('crop', (crop) => notices.push(crop));
    await client.connected();
    expect(await client.subscribe(deployment.deploymentId)).toMatchObject({ ok: true });
    const alerts = new MatchedAlertRepository(t.deps.db);
    // No cooldown: this file's other alerts are of the same camera and subject.
    const first = await alerts.store(
      trackView(cipher, deployment, { sequence: 1, quality: 0.3, crop: jpeg(1) }),
      0,
    );
    if (!('stored' in first)) throw new Error('the first view was not stored');
    const better = await alerts.store(
      trackView(cipher, deployment, { sequence: 2, quality: 0.9, crop: jpeg(2) }),
      0,
    );
    expect(better).toMatchObject({ suppressed: 'same_track', upgraded: { id: first.stored.id } });
    const { id } = first.stored;
    const { deploymentId, cameraId } = deployment;
    publishCropUpgraded(t.deps.bus, { alertId: id, deploymentId, cameraId });
    await waitFor(() => notices.length >= 1);
    expect(notices).toEqual([{ alertId: id, deploymentId }]);

    // What the console does on the notice: that one alert, with its crop, through the list route.
    const response = await list(`limit=1&includeProbe=true&before=${BigInt(id) + BigInt(1)}`);
    expect(response.statusCode).toBe(200);
    const [listed] = response.json().alerts;
    expect(listed).toMatchObject({ id, probeImage: `data:image/jpeg;base64,${jpeg(2).toString('base64')}` });
    expect((await cropViews())[0]?.details).toEqual({ via: 'list', alertIds: [id] });
  });
});

const jpeg = (fill: number) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array(32).fill(fill), 0xff, 0xd9]);
