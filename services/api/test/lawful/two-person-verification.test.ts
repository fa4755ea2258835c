import { randomBytes } from 'node:crypto';
import { DataCipher } from '@vigil/core';
import { backendName, uniqueToken, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignOperator,
  baseUrlOf,
  createDeployment,
  createOperator,
  RecordingClient,
  removeAlertConsumer,
  storeAlert,
  type TestDeployment,
} from '../realtime-fixtures.js';
import { bearer, createTestApp, type TestApp } from '../test-app.js';

describe(`two-person verification of alerts (${backendName})`, () => {
  const cipher = new DataCipher(randomBytes(32));
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;
  let guarded: TestDeployment;
  let open: TestDeployment;
  let first: { id: string; token: string };
  let second: { id: string; token: string };
  let outsider: { id: string; token: string };

  const call = (token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), payload });

  beforeAll(async () => {
    t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
    guarded = await createDeployment(t.deps.db, 'Two-person');
    open = await createDeployment(t.deps.db, 'One-person');
    first = await createOperator(t.app, t.tokens.admin, 'first-verifier');
    second = await createOperator(t.app, t.tokens.admin, 'second-verifier');
    outsider = await createOperator(t.app, t.tokens.admin, 'not-assigned');
    for (const operator of [first, second]) {
      await assignOperator(t.deps.db, guarded.deploymentId, operator.id);
      await assignOperator(t.deps.db, open.deploymentId, operator.id);
    }
    const turnedOn = await call(t.tokens.admin, 'PUT', `/deployments/${guarded.deploymentId}/verification`, {
      required: true,
    });
    expect(turnedOn.statusCode, turnedOn.body).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  const stats = async (deploymentId: string) =>
    (await call(t.tokens.admin, 'GET', `/deployments/${deploymentId}/stats`)).json() as {
      trueAlerts: number;
      outcomes: Record<string, number>;
    };

  it('is off for existing deployments and reads back once an administrator turns it on', async () => {
    const before = await call(first.token, 'GET', `/deployments/${open.deploymentId}/verification`);
    expect(before.json()).toEqual({ deploymentId: open.deploymentId, required: false });
    const after = await call(t.tokens.oversight, 'GET', `/deployments/${guarded.deploymentId}/verification`);
    expect(after.json()).toEqual({ deploymentId: guarded.deploymentId, required: true });
    const audit = await t.deps.db.query<{ details: { twoPersonVerification: boolean } }>(
      `SELECT details FROM audit_log WHERE action = 'deployment.verification_policy' AND target_id = $1`,
      [guarded.deploymentId],
    );
    expect(audit.rows.map((r) => r.details.twoPersonVerification)).toEqual([true]);
  });

  it('refuses to turn it off once the deployment has started', async () => {
    const off = await call(t.tokens.admin, 'PUT', `/deployments/${guarded.deploymentId}/verification`, {
      required: false,
    });
    expect(off.statusCode).toBe(409);
    expect(off.json().error.code).toBe('invalid_deployment_state');
  });

  it('refuses confirmed, engaged, arrested and passing to an officer before two operators confirm', async () => {
    const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, guarded);
    for (const outcome of ['confirmed', 'engaged', 'arrested']) {
      const response = await call(first.token, 'POST', `/alerts/${alert.id}/adjudication`, { outcome });
      expect(response.statusCode, outcome).toBe(409);
      expect(response.json().error.code).toBe('verification_required');
    }
    const dispatch = await call(first.token, 'POST', `/alerts/${alert.id}/dispatch`, {
      officerId: second.id,
    });
    expect(dispatch.statusCode).toBe(409);
    expect(dispatch.json().error.code).toBe('verification_required');
    // Saying it is a false alert is not an action: one operator may.
    const falseAlert = await call(first.token, 'POST', `/alerts/${alert.id}/adjudication`, {
      outcome: 'false_alert',
    });
    expect(falseAlert.statusCode).toBe(201);
  });

  it('makes an alert actionable only when a second, different operator confirms it, keeping both', async () => {
    const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, guarded);
    const one = await call(first.token, 'POST', `/alerts/${alert.id}/verifications`, { note: 'same coat' });
    expect(one.statusCode, one.body).toBe(201);
    expect(one.json()).toMatchObject({ required: true, actionable: false, waitingFor: 1 });

    const again = await call(first.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_verified');
    // One confirmation is not a confirmed alert: the statistics do not count it.
    expect((await stats(guarded.deploymentId)).outcomes.confirmed).toBe(0);
    const stillRefused = await call(first.token, 'POST', `/alerts/${alert.id}/dispatch`, {
      officerId: second.id,
    });
    expect(stillRefused.json().error.code).toBe('verification_required');

    const two = await call(second.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    expect(two.statusCode).toBe(201);
    const state = two.json();
    expect(state).toMatchObject({ actionable: true, waitingFor: 0 });
    expect(state.confirmations.map((c: { username: string }) => c.username)).toEqual([
      'first-verifier',
      'second-verifier',
    ]);
    expect(state.confirmations[0].note).toBe('same coat');
    for (const c of state.confirmations) expect(Number.isNaN(Date.parse(c.createdAt))).toBe(false);

    const listed = await call(first.token, 'GET', `/deployments/${guarded.deploymentId}/alerts`);
    const adjudications = listed.json().alerts.find((a: { id: string }) => a.id === alert.id).adjudications;
    expect(adjudications).toMatchObject([{ outcome: 'confirmed', username: 'second-verifier' }]);
    expect((await stats(guarded.deploymentId)).outcomes.confirmed).toBe(1);

    const dispatch = await call(first.token, 'POST', `/alerts/${alert.id}/dispatch`, {
      officerId: second.id,
    });
    expect(dispatch.statusCode, dispatch.body).toBe(201);
    const engaged = await call(second.token, 'POST', `/alerts/${alert.id}/adjudication`, {
      outcome: 'engaged',
    });
    expect(engaged.statusCode).toBe(201);

    const states = await call(second.token, 'GET', `/deployments/${guarded.deploymentId}/verifications`);
    expect(states.statusCode).toBe(200);
    expect(states.json().alerts.find((s: { alertId: string }) => s.alertId === alert.id)).toMatchObject({
      actionable: true,
      waitingFor: 0,
    });
  });

  it('tells every operator live when the second confirmation makes the alert a confirmed one', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const watcher = new RecordingClient(baseUrlOf(t.app), first.token);
    try {
      await watcher.connected();
      expect((await watcher.subscribe(guarded.deploymentId)).ok).toBe(true);
      const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, guarded);
      await call(first.token, 'POST', `/alerts/${alert.id}/verifications`, {});
      await call(second.token, 'POST', `/alerts/${alert.id}/verifications`, {});
      await waitFor(() => watcher.adjudications.find((a) => a.alertId === alert.id));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const events = watcher.adjudications.filter((a) => a.alertId === alert.id);
      // One event, for the outcome: the first confirmation alone is not an outcome.
      expect(events.map((a) => [a.outcome, a.username])).toEqual([['confirmed', 'second-verifier']]);
    } finally {
      watcher.close();
    }
  });

  it('keeps both decisions, with who and when, on the use log and the audit trail', async () => {
    const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, guarded);
    await call(first.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    await call(second.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    const log = await call(t.tokens.oversight, 'GET', `/deployments/${guarded.deploymentId}/use-log`);
    const entries = (
      log.json().entries as { event: string; alertId: string; details: Record<string, unknown> }[]
    )
      .filter((e) => e.alertId === alert.id)
      .map((e) => [e.event, e.details.username ?? null]);
    expect(entries).toEqual([
      ['alert', null],
      ['verification', 'first-verifier'],
      ['verification', 'second-verifier'],
      ['outcome', 'second-verifier'],
    ]);
    const audit = await t.deps.db.query<{ actor_name: string }>(
      `SELECT actor_name FROM audit_log WHERE action = 'alert.verify' AND target_id = $1 ORDER BY id`,
      [alert.id],
    );
    expect(audit.rows.map((r) => r.actor_name)).toEqual(['first-verifier', 'second-verifier']);
  });

  it('refuses a verification from an operator not assigned to the deployment', async () => {
    const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, guarded);
    const response = await call(outsider.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('not_assigned');
  });

  it('leaves a deployment without the rule as it was: one operator confirms and acts', async () => {
    const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, open);
    const verification = await call(first.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    expect(verification.statusCode).toBe(409);
    expect(verification.json().error.code).toBe('verification_not_required');
    const confirmed = await call(first.token, 'POST', `/alerts/${alert.id}/adjudication`, {
      outcome: 'confirmed',
    });
    expect(confirmed.statusCode).toBe(201);
    const dispatch = await call(first.token, 'POST', `/alerts/${alert.id}/dispatch`, {
      officerId: second.id,
    });
    expect(dispatch.statusCode).toBe(201);
    expect((await stats(open.deploymentId)).outcomes.confirmed).toBe(1);
  });
});
