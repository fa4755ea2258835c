import { backendName, uniqueToken, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWatchlist, testCipher } from '../oversight/fixtures.js';
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
import { authorise, bearer, createTestApp, injectCaller, type TestApp } from '../test-app.js';

const MODEL = 'test-model';
/** Long enough for an event that is coming to arrive on a shared test machine, after one that came. */
const SETTLE_MS = 500;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

// Issue #24: what a verification or a purge changes reaches every console of the deployment at
// once over socket.io, each send re-checked like alerts, adjudications and claims.
describe(`live verification and purge events (${backendName})`, () => {
  const cipher = testCipher();
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;
  let url: string;
  const clients: RecordingClient[] = [];

  const call = (token: string, method: 'POST' | 'PUT', route: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${route}`, headers: bearer(token), payload });

  async function connected(token: string): Promise<RecordingClient> {
    const client = new RecordingClient(url, token);
    clients.push(client);
    await client.connected();
    return client;
  }

  async function watching(token: string, deploymentId: string): Promise<RecordingClient> {
    const client = await connected(token);
    expect(await client.subscribe(deploymentId)).toMatchObject({ ok: true });
    return client;
  }

  /** A deployment that started on an urgent request awaiting its decision, with an operator and an alert. */
  async function urgentRunning(operatorId: string): Promise<{ deployment: TestDeployment; request: string }> {
    const admin = injectCaller(t.app, t.tokens.admin);
    const list = await createWatchlist(t.deps.db, cipher, [{ label: 'Listed', category: 'wanted' }], MODEL);
    const created = await admin('POST', '/deployments', {
      name: 'Urgent run',
      location: 'Station forecourt',
      threshold: 0.6,
      watchlistIds: [list.id],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const camera = await admin('POST', `/deployments/${created.json.id}/cameras`, {
      name: 'Gate',
      url: 'rtsp://127.0.0.1:1/none',
    });
    const request = await authorise(t, created.json.id, { urgent: true, grant: false });
    expect((await admin('POST', `/deployments/${created.json.id}/start`)).status).toBe(200);
    await assignOperator(t.deps.db, created.json.id, operatorId);
    const [subject] = list.subjects;
    const deployment = {
      deploymentId: created.json.id as string,
      cameraId: camera.json.id as string,
      subjectId: subject!.id,
      referenceImageId: subject!.referenceImageIds[0]!,
    };
    await storeAlert(t.deps.db, t.deps.bus, cipher, deployment);
    return { deployment, request: request.id };
  }

  beforeAll(async () => {
    // The schedule looks every 200 ms, so a lapsed decision is seen at once.
    t = await createTestApp({
      modelId: MODEL,
      cipher,
      authorisationCheckMs: 200,
      env: { VIGIL_ALERT_CONSUMER: consumer },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    url = baseUrlOf(t.app);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it("sends each operator's confirmation live to every console of the deployment, re-checking access before each send", async () => {
    const guarded = await createDeployment(t.deps.db, 'Two-person live');
    const other = await createDeployment(t.deps.db, 'Elsewhere');
    const first = await createOperator(t.app, t.tokens.admin, 'live-first');
    const second = await createOperator(t.app, t.tokens.admin, 'live-second');
    const removed = await createOperator(t.app, t.tokens.admin, 'live-removed');
    const elsewhere = await createOperator(t.app, t.tokens.admin, 'live-elsewhere');
    for (const operator of [first, second, removed])
      await assignOperator(t.deps.db, guarded.deploymentId, operator.id);
    await assignOperator(t.deps.db, other.deploymentId, elsewhere.id);
    const rule = await call(t.tokens.admin, 'PUT', `/deployments/${guarded.deploymentId}/verification`, {
      required: true,
    });
    expect(rule.statusCode, rule.body).toBe(200);

    const secondConsole = await watching(second.token, guarded.deploymentId);
    const adminConsole = await watching(t.tokens.admin, guarded.deploymentId);
    const removedConsole = await watching(removed.token, guarded.deploymentId);
    const elsewhereConsole = await watching(elsewhere.token, other.deploymentId);
    // Unassigned behind the API's back (no access announcement): only the per-send check can catch it.
    await t.deps.db.query('DELETE FROM deployment_operators WHERE deployment_id = $1 AND user_id = $2', [
      guarded.deploymentId,
      removed.id,
    ]);
    const alert = await storeAlert(t.deps.db, t.deps.bus, cipher, guarded);

    const one = await call(first.token, 'POST', `/alerts/${alert.id}/verifications`, { note: 'same coat' });
    expect(one.statusCode, one.body).toBe(201);
    const heard = await waitFor(() => secondConsole.verifications.find((v) => v.alertId === alert.id));
    expect(heard).toMatchObject({
      alertId: alert.id,
      deploymentId: guarded.deploymentId,
      required: true,
      actionable: false,
      waitingFor: 1,
      confirmations: [{ userId: first.id, username: 'live-first', note: 'same coat' }],
    });
    await waitFor(() => adminConsole.verifications.some((v) => v.alertId === alert.id));

    const two = await call(second.token, 'POST', `/alerts/${alert.id}/verifications`, {});
    expect(two.statusCode, two.body).toBe(201);
    await waitFor(() => adminConsole.verifications.filter((v) => v.alertId === alert.id).length === 2);
    const last = adminConsole.verifications.filter((v) => v.alertId === alert.id)[1];
    expect(last).toMatchObject({ actionable: true, waitingFor: 0 });
    expect(last?.confirmations.map((c) => c.username)).toEqual(['live-first', 'live-second']);
    await waitFor(() => secondConsole.verifications.filter((v) => v.alertId === alert.id).length === 2);

    await settle();
    // The operator no longer assigned was told so, and sent none of it; another deployment's console neither.
    expect(removedConsole.withdrawn).toContain(guarded.deploymentId);
    expect(removedConsole.verifications).toEqual([]);
    expect(elsewhereConsole.verifications).toEqual([]);
  });

  it("tells the deployment's consoles live when a refused authorisation deletes its alerts", async () => {
    const operator = await createOperator(t.app, t.tokens.admin, 'purge-refused');
    const bystander = await createOperator(t.app, t.tokens.admin, 'purge-bystander');
    const { deployment, request } = await urgentRunning(operator.id);
    const untouched = await createDeployment(t.deps.db, 'Untouched');
    await assignOperator(t.deps.db, untouched.deploymentId, bystander.id);
    const operatorConsole = await watching(operator.token, deployment.deploymentId);
    const adminConsole = await watching(t.tokens.admin, deployment.deploymentId);
    const bystanderConsole = await watching(bystander.token, untouched.deploymentId);
    // Officers subscribe to no deployment (their phones list what is passed to them): the purge must
    // reach the deployment's officers all the same, and only them.
    const officer = await createOperator(t.app, t.tokens.admin, 'purge-officer', 'officer');
    const otherOfficer = await createOperator(t.app, t.tokens.admin, 'purge-other-officer', 'officer');
    await assignOperator(t.deps.db, deployment.deploymentId, officer.id);
    await assignOperator(t.deps.db, untouched.deploymentId, otherOfficer.id);
    const officerPhone = await connected(officer.token);
    const otherOfficerPhone = await connected(otherOfficer.token);

    const refused = await injectCaller(t.app, t.tokens.authoriser)(
      'POST',
      `/authorisations/${request}/decision`,
      {
        decision: 'refused',
        rationale: 'Not proportionate',
      },
    );
    expect(refused.status, JSON.stringify(refused.json)).toBe(200);
    const expected = { deploymentId: deployment.deploymentId, reason: 'authorisation_refused' };
    await waitFor(() => operatorConsole.purged.length > 0);
    await waitFor(() => adminConsole.purged.length > 0);
    expect(operatorConsole.purged).toEqual([expected]);
    expect(adminConsole.purged).toEqual([expected]);
    await waitFor(() => officerPhone.purged.length > 0);
    expect(officerPhone.purged).toEqual([expected]);
    const { rows } = await t.deps.db.query<{ n: string | number }>(
      'SELECT count(*) AS n FROM alerts WHERE deployment_id = $1',
      [deployment.deploymentId],
    );
    expect(Number(rows[0]!.n)).toBe(0);
    await settle();
    expect(bystanderConsole.purged).toEqual([]);
    expect(otherOfficerPhone.purged).toEqual([]);
  });

  it("tells the deployment's consoles live when an urgent request lapses and its alerts are deleted", async () => {
    const operator = await createOperator(t.app, t.tokens.admin, 'purge-lapsed');
    const { deployment, request } = await urgentRunning(operator.id);
    const operatorConsole = await watching(operator.token, deployment.deploymentId);
    await t.deps.db.query(
      `UPDATE deployment_authorisations SET decision_due_at = now() - interval '1 second' WHERE id = $1`,
      [request],
    );
    await waitFor(() => operatorConsole.purged.length > 0, 15_000);
    expect(operatorConsole.purged).toEqual([
      { deploymentId: deployment.deploymentId, reason: 'authorisation_lapsed' },
    ]);
  });
});
