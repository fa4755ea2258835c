import { backendName, uniqueToken, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RealtimeTestApp,
  type RecordingClient,
  startRealtimeApp,
  type TestDeployment,
} from './realtime-fixtures.js';
import { bearer } from './test-app.js';

/** Issue #22 item 3: an open socket loses what its user lost, at the change and at every send. */
describe(`access withdrawn from an open alert socket (${backendName})`, () => {
  let t: RealtimeTestApp;
  let deployment: TestDeployment;
  let watcher: RecordingClient;

  const client = (token: string) => t.client(token);
  const store = () => t.store(deployment);
  /** An assigned operator with an open, subscribed socket. */
  const subscribedOperator = async (name: string) => {
    const operator = await t.operator(`${name}-${uniqueToken()}`);
    await t.assign(deployment.deploymentId, operator.id);
    const socket = client(operator.token);
    await socket.connected();
    expect(await socket.subscribe(deployment.deploymentId)).toMatchObject({ ok: true });
    const first = await store();
    await waitFor(() => socket.alerts.some((a) => a.id === first.id));
    return { ...operator, socket };
  };
  /** Stores an alert and waits until the admin's socket has it, so the operator's would have too. */
  const storeAndDeliver = async () => {
    const alert = await store();
    await waitFor(() => watcher.alerts.some((a) => a.id === alert.id));
    return alert;
  };

  beforeAll(async () => {
    t = await startRealtimeApp();
    deployment = await t.deployment('Access');
    watcher = client(t.tokens.admin);
    await watcher.connected();
    await watcher.subscribe(deployment.deploymentId);
  });

  afterAll(async () => t?.close());

  it('ends the subscription of an operator unassigned from the deployment, at once', async () => {
    const operator = await subscribedOperator('unassigned');
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/deployments/${deployment.deploymentId}/operators/${operator.id}`,
      headers: bearer(t.tokens.admin),
    });
    expect(removed.statusCode).toBe(200);
    await waitFor(() => operator.socket.withdrawn.includes(deployment.deploymentId));
    const before = operator.socket.alerts.length;
    await storeAndDeliver();
    expect(operator.socket.alerts).toHaveLength(before);
    // Subscribing again is refused like any unassigned operator.
    expect(await operator.socket.subscribe(deployment.deploymentId)).toMatchObject({
      ok: false,
      error: { code: 'not_assigned' },
    });
  });

  it('checks the assignment again on every send, even when no change was announced', async () => {
    const operator = await subscribedOperator('silently-removed');
    // Removed behind the API's back (another tool, a lost broadcast): the next alert is still withheld.
    await t.deps.db.query('DELETE FROM deployment_operators WHERE deployment_id = $1 AND user_id = $2', [
      deployment.deploymentId,
      operator.id,
    ]);
    const before = operator.socket.alerts.length;
    const withheld = await storeAndDeliver();
    expect(operator.socket.alerts.map((a) => a.id)).not.toContain(withheld.id);
    expect(operator.socket.alerts).toHaveLength(before);
    await waitFor(() => operator.socket.withdrawn.includes(deployment.deploymentId));
  });

  it('withholds adjudications from an operator who lost the deployment', async () => {
    const operator = await subscribedOperator('no-adjudications');
    await t.deps.db.query('DELETE FROM deployment_operators WHERE deployment_id = $1 AND user_id = $2', [
      deployment.deploymentId,
      operator.id,
    ]);
    const alert = await storeAndDeliver();
    const adjudicated = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${alert.id}/adjudication`,
      headers: bearer(t.tokens.admin),
      payload: { outcome: 'confirmed' },
    });
    expect(adjudicated.statusCode).toBe(201);
    await waitFor(() => watcher.adjudications.some((a) => a.alertId === alert.id));
    expect(operator.socket.adjudications.some((a) => a.alertId === alert.id)).toBe(false);
  });

  it('disconnects a user who is disabled, and one whose role changes', async () => {
    const disabled = await subscribedOperator('disabled');
    const demoted = await subscribedOperator('demoted');
    for (const [user, change] of [
      [disabled, { disabled: true }],
      [demoted, { role: 'oversight' }],
    ] as const) {
      const response = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        headers: bearer(t.tokens.admin),
        payload: change,
      });
      expect(response.statusCode).toBe(200);
    }
    await waitFor(() => !disabled.socket.socket.connected && !demoted.socket.socket.connected);
    expect(disabled.socket.disconnectReason).toBe('io server disconnect');
    expect(demoted.socket.disconnectReason).toBe('io server disconnect');
    const before = disabled.socket.alerts.length + demoted.socket.alerts.length;
    await storeAndDeliver();
    expect(disabled.socket.alerts.length + demoted.socket.alerts.length).toBe(before);
  });

  it('disconnects a socket whose token was logged out elsewhere', async () => {
    const operator = await subscribedOperator('logged-out');
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: bearer(operator.token),
    });
    expect(logout.statusCode).toBe(204);
    await waitFor(() => !operator.socket.socket.connected);
    expect(operator.socket.disconnectReason).toBe('io server disconnect');
  });
});
