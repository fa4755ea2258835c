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
  const dispatches: DispatchPayload[] = [];

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
});
