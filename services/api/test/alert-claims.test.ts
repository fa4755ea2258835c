import type { ClaimPayload } from '@vigil/contract';
import { AuditRepository } from '@vigil/core';
import { backendName, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RealtimeTestApp,
  type RecordingClient,
  startRealtimeApp,
  type TestDeployment,
} from './realtime-fixtures.js';
import { bearer } from './test-app.js';

// Issue #23: two operators watching one deployment acted on the same alert; a claim says who has it.
describe(`claiming an alert (${backendName})`, () => {
  let t: RealtimeTestApp;
  let deployment: TestDeployment;
  let second: { id: string; token: string };
  let watcher: RecordingClient;
  const claims: ClaimPayload[] = [];

  const call = (method: 'POST' | 'DELETE', alertId: string, token: string) =>
    t.app.inject({ method, url: `/api/v1/alerts/${alertId}/claim`, headers: bearer(token) });

  beforeAll(async () => {
    t = await startRealtimeApp();
    deployment = await t.deployment('Claims');
    second = await t.operator('second-operator');
    await t.assign(deployment.deploymentId, await t.userId(t.tokens.operator));
    await t.assign(deployment.deploymentId, second.id);
    watcher = t.client(second.token);
    watcher.socket.on('claim', (claim) => claims.push(claim));
    await watcher.connected();
    expect(await watcher.subscribe(deployment.deploymentId)).toMatchObject({ ok: true });
  });
  afterAll(async () => t?.close());

  it('gives an alert to the first operator who claims it, refuses the second with who holds it, and tells every client live', async () => {
    const { id } = await t.store(deployment);
    const first = await call('POST', id, t.tokens.operator);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ alertId: id, username: 'operator-user' });
    // Claiming what one holds is not an error.
    expect((await call('POST', id, t.tokens.operator)).statusCode).toBe(200);

    const refused = await call('POST', id, second.token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toEqual({
      code: 'alert_claimed',
      message: 'operator-user is handling this alert',
    });
    // Nor may the second operator release someone else's claim.
    expect((await call('DELETE', id, second.token)).statusCode).toBe(409);

    await waitFor(() => claims.some((c) => c.alertId === id && c.username === 'operator-user'));
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.deploymentId}/alerts`,
      headers: bearer(second.token),
    });
    expect(listed.json().alerts.find((a: { id: string }) => a.id === id).claim).toMatchObject({
      username: 'operator-user',
    });

    const released = await call('DELETE', id, t.tokens.operator);
    expect(released.statusCode).toBe(200);
    expect(released.json()).toMatchObject({ alertId: id, userId: null, username: null });
    await waitFor(() => claims.some((c) => c.alertId === id && c.userId === null));
    expect((await call('POST', id, second.token)).statusCode).toBe(200);

    const audit = await new AuditRepository(t.deps.db).list({ targetType: 'alert', targetId: id });
    expect(audit.map((entry) => [entry.action, entry.actorName])).toEqual(
      expect.arrayContaining([
        ['alert.claim', 'operator-user'],
        ['alert.release', 'operator-user'],
        ['alert.claim', 'second-operator'],
      ]),
    );
  });

  it("lets an admin release anyone's claim, and keeps unassigned roles out", async () => {
    const { id } = await t.store(deployment);
    expect((await call('POST', id, second.token)).statusCode).toBe(200);
    const released = await call('DELETE', id, t.tokens.admin);
    expect(released.statusCode).toBe(200);
    expect((await call('POST', id, t.tokens.oversight)).statusCode).toBe(403);
    const other = await t.deployment('Not assigned');
    const elsewhere = await t.store(other);
    const refused = await call('POST', elsewhere.id, t.tokens.operator);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('not_assigned');
    expect((await call('POST', '999999999', t.tokens.operator)).statusCode).toBe(404);
  });

  it("gives the officer the camera's crop beside the watchlist photo, and audits that they saw it (issue #23 officer)", async () => {
    const { id } = await t.store(deployment);
    const passed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId: second.id },
    });
    expect(passed.statusCode).toBe(201);
    const mine = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dispatches/mine',
      headers: bearer(second.token),
    });
    const item = mine.json().find((d: { alertId: string }) => d.alertId === id);
    expect(item.alert.probeImage).toMatch(/^data:image\/jpeg;base64,/);
    expect(item.alert.referenceImageUrl).toMatch(/^\/api\/v1\/reference-images\//);
    const views = await new AuditRepository(t.deps.db).list({
      action: 'alert_crop.view',
      actorName: 'second-operator',
    });
    expect(
      views.some(
        (entry) => entry.details.via === 'officer' && (entry.details.alertIds as string[]).includes(id),
      ),
    ).toBe(true);
  });
});
