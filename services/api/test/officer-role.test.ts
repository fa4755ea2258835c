import type { DispatchPayload } from '@vigil/contract';
import { backendName, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RealtimeTestApp,
  type RecordingClient,
  startRealtimeApp,
  type TestDeployment,
} from './realtime-fixtures.js';
import { bearer } from './test-app.js';

// Issue #23: "Pass to officer" existed but the role did not: officers had to be operators, with the
// whole deployment's feed. An officer receives what is passed to them, and acts on that alone.
describe(`the officer role (${backendName})`, () => {
  let t: RealtimeTestApp;
  let deployment: TestDeployment;
  let officerId: string;
  let phone: RecordingClient;
  let desk: RecordingClient;
  const dispatches: DispatchPayload[] = [];
  /** What the operator's console, subscribed to the deployment, is sent. */
  const deskDispatches: DispatchPayload[] = [];

  beforeAll(async () => {
    t = await startRealtimeApp();
    deployment = await t.deployment('Officer deployment');
    officerId = await t.userId(t.tokens.officer);
    const operatorId = await t.userId(t.tokens.operator);
    const assigned = await t.app.inject({
      method: 'POST',
      url: `/api/v1/deployments/${deployment.deploymentId}/operators`,
      headers: bearer(t.tokens.admin),
      payload: { userIds: [operatorId, officerId] },
    });
    expect(assigned.statusCode).toBeLessThan(300);
    phone = t.client(t.tokens.officer);
    phone.socket.on('dispatch', (dispatch) => dispatches.push(dispatch));
    await phone.connected();
    desk = t.client(t.tokens.operator);
    desk.socket.on('dispatch', (dispatch) => deskDispatches.push(dispatch));
    await desk.connected();
    expect(await desk.subscribe(deployment.deploymentId)).toMatchObject({ ok: true });
  });
  afterAll(async () => t?.close());

  it('is offered to operators as someone to pass an alert to, receives it live and in the Officer list, and records what happened', async () => {
    const { id } = await t.store(deployment);
    const officers = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.deploymentId}/officers`,
      headers: bearer(t.tokens.operator),
    });
    expect(officers.json()[0]).toEqual({ id: officerId, username: 'officer-user' });
    const passed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId, note: 'north gate, blue jacket' },
    });
    expect(passed.statusCode).toBe(201);
    await waitFor(() => dispatches.some((d) => d.alertId === id));

    const mine = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dispatches/mine',
      headers: bearer(t.tokens.officer),
    });
    expect(mine.statusCode).toBe(200);
    const item = mine.json().find((d: { alertId: string }) => d.alertId === id);
    expect(item).toMatchObject({ note: 'north gate, blue jacket', location: 'High Street' });
    expect(item.alert.probeImage).toMatch(/^data:image\/jpeg;base64,/);

    const engaged = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/adjudication`,
      headers: bearer(t.tokens.officer),
      payload: { outcome: 'engaged', note: 'spoke to him' },
    });
    expect(engaged.statusCode).toBe(201);
    expect(engaged.json()).toMatchObject({ outcome: 'engaged', username: 'officer-user' });
  });

  it('sees nothing else: no live feed, no alert list, no outcome on an alert not passed to them', async () => {
    const { id } = await t.store(deployment);
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.deploymentId}/alerts`,
      headers: bearer(t.tokens.officer),
    });
    expect(list.statusCode).toBe(403);
    const outcome = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/adjudication`,
      headers: bearer(t.tokens.officer),
      payload: { outcome: 'arrested' },
    });
    expect(outcome.statusCode).toBe(403);
    expect(outcome.json().error.code).toBe('not_assigned');
    const claim = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/claim`,
      headers: bearer(t.tokens.officer),
    });
    expect(claim.statusCode).toBe(403);
    const subscribed = await phone.subscribe(deployment.deploymentId);
    expect(subscribed.ok).toBe(false);
    // Passed to someone else: the officer's phone hears nothing of it.
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId: await t.userId(t.tokens.operator) },
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(dispatches.some((d) => d.alertId === id)).toBe(false);
  });

  it('records acknowledged then en route, by the officer it was passed to only, stored, audited, live to operator and officer, and deleted with the alert', async () => {
    const { id: alertId } = await t.store(deployment);
    const passed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${alertId}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId },
    });
    expect(passed.json()).toMatchObject({ acknowledgedAt: null, enRouteAt: null });
    const dispatchId: string = passed.json().id;
    const step = (token: string, path: 'acknowledge' | 'en-route', id = dispatchId) =>
      t.app.inject({ method: 'POST', url: `/api/v1/dispatches/${id}/${path}`, headers: bearer(token) });

    // Another officer of the same deployment, and the operator who passed it, may not speak for them.
    const other = await t.operator('officer-other', 'officer');
    await t.assign(deployment.deploymentId, other.id);
    for (const token of [other.token, t.tokens.operator]) {
      const refused = await step(token, 'acknowledge');
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('not_your_dispatch');
    }
    const forbidden = await step(t.tokens.admin, 'acknowledge');
    expect(forbidden.statusCode).toBe(403);
    const early = await step(t.tokens.officer, 'en-route');
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('not_acknowledged');
    expect((await step(t.tokens.officer, 'acknowledge', '999999999')).statusCode).toBe(404);

    const acknowledged = await step(t.tokens.officer, 'acknowledge');
    expect(acknowledged.statusCode).toBe(200);
    expect(acknowledged.json()).toMatchObject({
      id: dispatchId,
      officerName: 'officer-user',
      enRouteAt: null,
    });
    const acknowledgedAt: string = acknowledged.json().acknowledgedAt;
    expect(Date.parse(acknowledgedAt)).toBeGreaterThan(Date.now() - 60_000);
    // Pressed twice on a shaky connection: the first time stands.
    expect((await step(t.tokens.officer, 'acknowledge')).json().acknowledgedAt).toBe(acknowledgedAt);
    const enRoute = await step(t.tokens.officer, 'en-route');
    expect(enRoute.statusCode).toBe(200);
    expect(enRoute.json()).toMatchObject({ acknowledgedAt, enRouteAt: expect.any(String) });

    // Live: the operator's console and the officer's phone each see both steps.
    for (const heard of [deskDispatches, dispatches])
      await waitFor(() => heard.some((d) => d.id === dispatchId && d.enRouteAt !== null));
    expect(
      deskDispatches.filter((d) => d.id === dispatchId).map((d) => [!!d.acknowledgedAt, !!d.enRouteAt]),
    ).toEqual([
      [false, false],
      [true, false],
      [true, true],
    ]);
    // The operator's alert list carries them too (a console opened later).
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${deployment.deploymentId}/alerts`,
      headers: bearer(t.tokens.operator),
    });
    const listed = list.json().alerts.find((a: { id: string }) => a.id === alertId);
    expect(listed.dispatches).toEqual([enRoute.json()]);
    const mine = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dispatches/mine',
      headers: bearer(t.tokens.officer),
    });
    expect(mine.json().find((d: { id: string }) => d.id === dispatchId)).toMatchObject({
      acknowledgedAt,
      enRouteAt: enRoute.json().enRouteAt,
    });

    const audit = await t.deps.db.query<{ action: string; actor_name: string }>(
      `SELECT action, actor_name FROM audit_log WHERE target_id = $1 AND action LIKE 'alert.dispatch%' ORDER BY id`,
      [alertId],
    );
    expect(audit.rows).toEqual([
      { action: 'alert.dispatch', actor_name: 'operator-user' },
      { action: 'alert.dispatch_acknowledge', actor_name: 'officer-user' },
      { action: 'alert.dispatch_en_route', actor_name: 'officer-user' },
    ]);

    // Retention deletes the alert: its dispatch and what the officer recorded go with it.
    await t.deps.db.query('DELETE FROM alerts WHERE id = $1', [alertId]);
    const left = await t.deps.db.query('SELECT 1 FROM alert_dispatches WHERE id = $1', [dispatchId]);
    expect(left.rows).toEqual([]);
    expect((await step(t.tokens.officer, 'en-route')).statusCode).toBe(404);
  });
});
