import { AuditRepository, type StoredMessage } from '@vigil/core';
import { backendName, waitFor } from '@vigil/core/testing';
import { decodeAlert } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiCall, approveWatchlist } from './authorisation.fixture.js';
import { createWatchlist, recordAlert, type SeededSubject, testCipher } from './oversight/fixtures.js';
import { storeAlert } from './realtime-fixtures.js';
import { createTestApp, injectCaller, type TestApp } from './test-app.js';

const MODEL = 'test-model';
const HOUR = 3_600_000;

/** A planned deployment over a fresh approved watchlist, with complete terms and one camera. */
async function plannedDeployment(
  t: TestApp,
  admin: ApiCall,
  authoriser: ApiCall,
  window: { startsAt?: Date; endsAt?: Date } = {},
): Promise<{ id: string; cameraId: string; subjects: SeededSubject[] }> {
  const cipher = t.deps.cipher!;
  const list = await createWatchlist(
    t.deps.db,
    cipher,
    [
      { label: 'Listed A', category: 'wanted' },
      { label: 'Listed B', category: 'missing' },
    ],
    MODEL,
  );
  await approveWatchlist(admin, authoriser, list.id);
  const created = await admin('POST', '/deployments', {
    name: 'Authorised run',
    location: 'High Street',
    purpose: 'Locate people wanted on warrant for violent offences',
    legalBasis: 'Common law policing powers; DPA 2018 s.35',
    threshold: 0.6,
    watchlistIds: [list.id],
    startsAt: (window.startsAt ?? new Date(Date.now() - 60_000)).toISOString(),
    endsAt: (window.endsAt ?? new Date(Date.now() + HOUR)).toISOString(),
  });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const camera = await admin('POST', `/deployments/${created.json.id}/cameras`, {
    name: 'Gate',
    url: 'rtsp://127.0.0.1:1/none',
  });
  return { id: created.json.id, cameraId: camera.json.id, subjects: list.subjects };
}

/** A planned deployment started at once on an urgent request (no decision yet), with one alert stored. */
async function startedUrgentlyWithAlert(
  t: TestApp,
  admin: ApiCall,
  authoriser: ApiCall,
): Promise<{ id: string; request: { id: string } }> {
  const { id, cameraId, subjects } = await plannedDeployment(t, admin, authoriser);
  const request = (await admin('POST', `/deployments/${id}/authorisation`, { urgent: true })).json;
  expect((await admin('POST', `/deployments/${id}/start`)).status).toBe(200);
  await recordAlert(t.deps.db, t.deps.cipher!, {
    deploymentId: id,
    cameraId,
    subject: subjects[0]!,
    capturedAt: new Date(),
  });
  return { id, request };
}

/** How many of the deployment's alerts the durable alert stream (the live feed's source) holds. */
async function streamed(t: TestApp, deploymentId: string): Promise<number> {
  let held = 0;
  await t.deps.bus.durable.erase((message: StoredMessage) => {
    try {
      if (decodeAlert(message.data).deploymentId === deploymentId) held++;
    } catch {
      // Not an alert (another test's message on a shared server).
    }
    return false;
  });
  return held;
}

async function snapshotAndAlerts(t: TestApp, id: string): Promise<{ entries: number; alerts: number }> {
  const { rows } = await t.deps.db.query<{ entries: string | number; alerts: string | number }>(
    `SELECT (SELECT count(*) FROM snapshot_entries WHERE deployment_id = $1) AS entries,
            (SELECT count(*) FROM alerts WHERE deployment_id = $1) AS alerts`,
    [id],
  );
  return { entries: Number(rows[0]!.entries), alerts: Number(rows[0]!.alerts) };
}

describe(`deployment authorisation (${backendName})`, () => {
  let t: TestApp;
  let admin: ApiCall;
  let authoriser: ApiCall;
  let oversight: ApiCall;

  beforeAll(async () => {
    t = await createTestApp({ modelId: MODEL, cipher: testCipher() });
    admin = injectCaller(t.app, t.tokens.admin);
    authoriser = injectCaller(t.app, t.tokens.authoriser);
    oversight = injectCaller(t.app, t.tokens.oversight);
  });
  afterAll(async () => t?.close());

  it('refuses to start without a granted authorisation, and asks for purpose, legal basis, place and window first', async () => {
    const { id } = await plannedDeployment(t, admin, authoriser);
    const start = await admin('POST', `/deployments/${id}/start`);
    expect(start.status).toBe(409);
    expect(start.json.error.code).toBe('authorisation_required');

    const bare = await admin('POST', '/deployments', {
      name: 'No terms',
      threshold: 0.6,
      watchlistIds: (await admin('GET', `/deployments/${id}`)).json.watchlistIds,
    });
    const incomplete = await admin('POST', `/deployments/${bare.json.id}/authorisation`, {});
    expect(incomplete.status).toBe(400);
    expect(incomplete.json.error.code).toBe('authorisation_incomplete');
    for (const field of ['purpose', 'legalBasis', 'location', 'startsAt', 'endsAt'])
      expect(incomplete.json.error.message).toContain(field);

    // A pending request is not a grant.
    const request = await admin('POST', `/deployments/${id}/authorisation`, {});
    expect(request.status, JSON.stringify(request.json)).toBe(201);
    expect(request.json).toMatchObject({ status: 'pending', urgent: false, decisionDueAt: null });
    expect((await admin('POST', `/deployments/${id}/start`)).json.error.code).toBe('authorisation_required');
    const again = await admin('POST', `/deployments/${id}/authorisation`, {});
    expect(again.json.error.code).toBe('authorisation_exists');
  });

  it("lets an authoriser who did not ask grant with reasons; the deployment then starts and records the list's make-up", async () => {
    const { id } = await plannedDeployment(t, admin, authoriser);
    const request = (await admin('POST', `/deployments/${id}/authorisation`, {})).json;
    expect(request.composition).toMatchObject({
      subjects: 2,
      byCategory: { wanted: 1, missing: 1, suspect: 0 },
      byPriority: { red: 2 },
      excluded: { notApproved: 0, reviewOverdue: 0 },
    });
    // The authoriser sees it among the pending requests; oversight may read them too.
    const pending = (await authoriser('GET', '/authorisations?status=pending')).json as { id: string }[];
    expect(pending.map((a) => a.id)).toContain(request.id);
    expect((await oversight('GET', `/deployments/${id}/authorisations`)).status).toBe(200);
    // Admins cannot decide; nor can anyone without a rationale.
    const byAdmin = await admin('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: 'mine',
    });
    expect(byAdmin.status).toBe(403);
    const noReasons = await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: ' ',
    });
    expect(noReasons.status).toBe(400);

    const granted = await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: 'Necessary and proportionate: 3 violent offenders sighted in the area this month',
    });
    expect(granted.status, JSON.stringify(granted.json)).toBe(200);
    expect(granted.json).toMatchObject({ status: 'granted', decidedByName: 'authoriser-user' });
    expect(granted.json.decidedAt).toBeTruthy();

    const started = await admin('POST', `/deployments/${id}/start`);
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    expect(started.json).toMatchObject({
      status: 'running',
      purpose: 'Locate people wanted on warrant for violent offences',
      authorisation: { id: request.id, status: 'granted' },
      watchlistComposition: { subjects: 2, byCategory: { wanted: 1, missing: 1 } },
    });
    expect(JSON.stringify(started.json.watchlistComposition)).not.toContain('Listed');
    expect((await snapshotAndAlerts(t, id)).entries).toBe(2);
    const [decision] = await new AuditRepository(t.deps.db).list({
      action: 'deployment.authorisation_granted',
      targetId: id,
    });
    expect(decision?.actorName).toBe('authoriser-user');
    expect(decision?.details).toMatchObject({ authorisationId: request.id });
  });

  it('refuses a decision by the user who asked, even after their role changes to authoriser', async () => {
    const { id } = await plannedDeployment(t, admin, authoriser);
    const users = (await admin('GET', '/users')).json as { id: string; username: string }[];
    const secondAdmin = await admin('POST', '/users', {
      username: 'second-admin',
      password: 'a long enough password 43',
      role: 'admin',
    });
    const login = await admin('POST', '/auth/login', {
      username: 'second-admin',
      password: 'a long enough password 43',
    });
    const asker = injectCaller(t.app, login.json.token);
    const request = (await asker('POST', `/deployments/${id}/authorisation`, {})).json;
    expect(users.length).toBeGreaterThan(0);
    await admin('PATCH', `/users/${secondAdmin.json.id}`, { role: 'authoriser' });
    const relogin = await admin('POST', '/auth/login', {
      username: 'second-admin',
      password: 'a long enough password 43',
    });
    const self = await injectCaller(t.app, relogin.json.token)(
      'POST',
      `/authorisations/${request.id}/decision`,
      {
        decision: 'granted',
        rationale: 'I asked, I grant',
      },
    );
    expect(self.status).toBe(403);
    expect(self.json.error.code).toBe('requester_cannot_authorise');
  });

  it('starts only inside the authorised window, and withdraws the authorisation when the terms change', async () => {
    const later = await plannedDeployment(t, admin, authoriser, {
      startsAt: new Date(Date.now() + HOUR),
      endsAt: new Date(Date.now() + 2 * HOUR),
    });
    const request = (await admin('POST', `/deployments/${later.id}/authorisation`, {})).json;
    await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: 'ok',
    });
    const early = await admin('POST', `/deployments/${later.id}/start`);
    expect(early.status).toBe(409);
    expect(early.json.error.code).toBe('outside_authorised_window');

    const changed = await admin('PATCH', `/deployments/${later.id}`, {
      startsAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(changed.json.authorisation).toMatchObject({ id: request.id, status: 'withdrawn' });
    expect((await admin('POST', `/deployments/${later.id}/start`)).json.error.code).toBe(
      'authorisation_required',
    );

    // The threshold is part of the terms too, whichever route changes it.
    const other = await plannedDeployment(t, admin, authoriser);
    const asked = (await admin('POST', `/deployments/${other.id}/authorisation`, {})).json;
    await authoriser('POST', `/authorisations/${asked.id}/decision`, {
      decision: 'granted',
      rationale: 'ok',
    });
    const raised = await admin('PATCH', `/deployments/${other.id}/threshold`, { threshold: 0.7 });
    expect(raised.status, JSON.stringify(raised.json)).toBe(200);
    expect((await admin('GET', `/deployments/${other.id}`)).json.authorisation).toMatchObject({
      id: asked.id,
      status: 'withdrawn',
    });
  });

  it('lets an urgent request start at once with a 24-hour deadline; a refusal stops it and deletes its snapshot, alerts and crops at once', async () => {
    const { id, cameraId, subjects } = await plannedDeployment(t, admin, authoriser);
    const request = (await admin('POST', `/deployments/${id}/authorisation`, { urgent: true })).json;
    expect(request.urgent).toBe(true);
    const dueIn = new Date(request.decisionDueAt).getTime() - new Date(request.requestedAt).getTime();
    expect(Math.round(dueIn / HOUR)).toBe(24);
    const started = await admin('POST', `/deployments/${id}/start`);
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    for (const subject of subjects)
      await recordAlert(t.deps.db, t.deps.cipher!, {
        deploymentId: id,
        cameraId,
        subject,
        capturedAt: new Date(),
      });
    // One as the matcher stores it: its row and its copy on the durable alert stream.
    const [first] = subjects;
    await storeAlert(t.deps.db, t.deps.bus, t.deps.cipher!, {
      deploymentId: id,
      cameraId,
      subjectId: first!.id,
      referenceImageId: first!.referenceImageIds[0]!,
    });
    expect(await snapshotAndAlerts(t, id)).toEqual({ entries: 2, alerts: 3 });
    expect(await streamed(t, id)).toBe(1);

    const refused = await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'refused',
      rationale: 'Not proportionate: the intelligence is stale',
    });
    expect(refused.status, JSON.stringify(refused.json)).toBe(200);
    expect(refused.json.status).toBe('refused');
    const deployment = (await admin('GET', `/deployments/${id}`)).json;
    expect(deployment).toMatchObject({ status: 'stopped', stopReason: 'authorisation_refused' });
    expect(deployment.purgedAt).toBeTruthy();
    expect(await snapshotAndAlerts(t, id)).toEqual({ entries: 0, alerts: 0 });
    expect(await streamed(t, id)).toBe(0);
    const [audit] = await new AuditRepository(t.deps.db).list({
      action: 'deployment.authorisation_refused',
      targetId: id,
    });
    expect(audit?.details).toMatchObject({
      stopReason: 'authorisation_refused',
      deleted: { entries: 2, alerts: 3, crops: 3 },
    });
  });
  it('deletes the data of an urgent deployment stopped by hand before the refusal', async () => {
    const { id, request } = await startedUrgentlyWithAlert(t, admin, authoriser);
    expect((await admin('POST', `/deployments/${id}/stop`)).json.stopReason).toBe('manual');
    const refused = await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'refused',
      rationale: 'Not necessary',
    });
    expect(refused.status, JSON.stringify(refused.json)).toBe(200);
    expect(await snapshotAndAlerts(t, id)).toEqual({ entries: 0, alerts: 0 });
    expect((await admin('GET', `/deployments/${id}`)).json).toMatchObject({ stopReason: 'manual' });
    expect((await admin('GET', `/deployments/${id}`)).json.purgedAt).toBeTruthy();
  });
});

describe(`authorisation schedule (${backendName})`, () => {
  let t: TestApp;
  let admin: ApiCall;
  let authoriser: ApiCall;

  beforeAll(async () => {
    // 0.001 h: an urgent start has 3.6 s for its decision; the schedule looks every 200 ms.
    t = await createTestApp({
      modelId: MODEL,
      cipher: testCipher(),
      authorisationCheckMs: 200,
      env: { VIGIL_URGENT_DECISION_HOURS: '0.001' },
    });
    admin = injectCaller(t.app, t.tokens.admin);
    authoriser = injectCaller(t.app, t.tokens.authoriser);
  });
  afterAll(async () => t?.close());

  it('stops a deployment by itself at the end of its window, keeping the snapshot for the grace period', async () => {
    const { id } = await plannedDeployment(t, admin, authoriser, { endsAt: new Date(Date.now() + 6000) });
    const request = (await admin('POST', `/deployments/${id}/authorisation`, {})).json;
    await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: 'ok',
    });
    expect((await admin('POST', `/deployments/${id}/start`)).status).toBe(200);
    const stopped = await waitFor(async () => {
      const deployment = (await admin('GET', `/deployments/${id}`)).json;
      return deployment.status === 'stopped' ? deployment : undefined;
    }, 15_000);
    expect(stopped).toMatchObject({ stopReason: 'window_ended', purgedAt: null });
    expect(new Date(stopped.stoppedAt).getTime()).toBeGreaterThanOrEqual(new Date(stopped.endsAt).getTime());
    expect((await snapshotAndAlerts(t, id)).entries).toBe(2);
    const [audit] = await new AuditRepository(t.deps.db).list({ action: 'deployment.stop', targetId: id });
    expect(audit).toMatchObject({
      actorName: 'system:authorisation',
      details: { stopReason: 'window_ended' },
    });
  });

  it('lapses an urgent request left undecided past its deadline: the deployment stops and its data is deleted', async () => {
    const { id, request } = await startedUrgentlyWithAlert(t, admin, authoriser);
    const stopped = await waitFor(async () => {
      const deployment = (await admin('GET', `/deployments/${id}`)).json;
      return deployment.status === 'stopped' ? deployment : undefined;
    }, 15_000);
    expect(stopped).toMatchObject({
      stopReason: 'authorisation_lapsed',
      authorisation: { status: 'lapsed' },
    });
    expect(await snapshotAndAlerts(t, id)).toEqual({ entries: 0, alerts: 0 });
    const late = await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: 'too late',
    });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe('authorisation_not_pending');
    const [audit] = await new AuditRepository(t.deps.db).list({
      action: 'deployment.authorisation_lapsed',
      targetId: id,
    });
    expect(audit?.details).toMatchObject({ deleted: { entries: 2, alerts: 1, crops: 1 } });
  });
});
