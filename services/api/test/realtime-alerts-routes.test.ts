import { randomBytes } from 'node:crypto';
import { AuditRepository, DataCipher } from '@vigil/core';
import { backendName, uniqueToken } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignOperator,
  createDeployment,
  createOperator,
  removeAlertConsumer,
  storeAlert,
  type TestDeployment,
  userId,
} from './realtime-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

describe(`alert routes: listing, adjudication, dispatch (${backendName})`, () => {
  const cipher = new DataCipher(randomBytes(32));
  let t: TestApp;
  let assigned: TestDeployment;
  let other: TestDeployment;
  let officer: { id: string; token: string };
  const ids: string[] = [];
  let otherAlert: string;

  const consumer = `test-${uniqueToken()}`;

  beforeAll(async () => {
    t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
    assigned = await createDeployment(t.deps.db, 'Assigned');
    other = await createDeployment(t.deps.db, 'Other');
    await assignOperator(t.deps.db, assigned.deploymentId, await userId(t.app, t.tokens.operator));
    officer = await createOperator(t.app, t.tokens.admin, 'officer-on-foot');
    await assignOperator(t.deps.db, assigned.deploymentId, officer.id);
    for (let i = 0; i < 5; i++) ids.push((await storeAlert(t.deps.db, t.deps.bus, cipher, assigned)).id);
    otherAlert = (await storeAlert(t.deps.db, t.deps.bus, cipher, other)).id;
  });
  afterAll(async () => {
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it('lists alerts newest first in pages, without the probe unless asked', async () => {
    const page1 = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${assigned.deploymentId}/alerts?limit=2`,
      headers: bearer(t.tokens.operator),
    });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json();
    expect(body1.total).toBe(5);
    expect(body1.alerts.map((a: { id: string }) => a.id)).toEqual([ids[4], ids[3]]);
    expect(body1.alerts[0].probeImage).toBeUndefined();
    expect(body1.alerts[0]).toMatchObject({
      cameraName: 'North entrance',
      label: 'Jane Roe',
      adjudications: [],
    });
    const page2 = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${assigned.deploymentId}/alerts?limit=2&before=${body1.nextBefore}&includeProbe=true`,
      headers: bearer(t.tokens.admin),
    });
    const body2 = page2.json();
    expect(body2.alerts.map((a: { id: string }) => a.id)).toEqual([ids[2], ids[1]]);
    expect(body2.alerts[0].probeImage).toMatch(/^data:image\/jpeg;base64,\/9j/);
  });

  it('answers 403 to an unassigned operator and other roles, 404 for unknown deployments and alerts', async () => {
    const unassigned = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${other.deploymentId}/alerts`,
      headers: bearer(t.tokens.operator),
    });
    expect(unassigned.statusCode).toBe(403);
    expect(unassigned.json().error.code).toBe('not_assigned');
    for (const role of ['oversight', 'watchlist_manager'] as const) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/deployments/${assigned.deploymentId}/alerts`,
        headers: bearer(t.tokens[role]),
      });
      expect(response.statusCode).toBe(403);
    }
    const anonymous = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${assigned.deploymentId}/alerts`,
    });
    expect(anonymous.statusCode).toBe(401);
    const unknown = await t.app.inject({
      method: 'GET',
      url: '/api/v1/deployments/00000000-0000-4000-8000-00000000abcd/alerts',
      headers: bearer(t.tokens.admin),
    });
    expect(unknown.statusCode).toBe(404);
    const noAlert = await t.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/999999999/adjudication',
      headers: bearer(t.tokens.admin),
      payload: { outcome: 'confirmed' },
    });
    expect(noAlert.statusCode).toBe(404);
    const notMine = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${otherAlert}/adjudication`,
      headers: bearer(t.tokens.operator),
      payload: { outcome: 'confirmed' },
    });
    expect(notMine.statusCode).toBe(403);
  });

  it('refuses a bad outcome, an unknown field and an injection-shaped id, and writes nothing', async () => {
    for (const [url, payload] of [
      [`/api/v1/alerts/${ids[0]}/adjudication`, { outcome: 'shot' }],
      [`/api/v1/alerts/${ids[0]}/adjudication`, { outcome: 'confirmed', extra: 1 }],
      [`/api/v1/alerts/1%20OR%201=1/adjudication`, { outcome: 'confirmed' }],
    ] as const) {
      const response = await t.app.inject({
        method: 'POST',
        url,
        headers: bearer(t.tokens.operator),
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBeTruthy();
    }
    const stored = await t.deps.db.query('SELECT 1 FROM adjudications');
    expect(stored.rows).toEqual([]);
  });

  it('records an outcome with a note, shows it in the listing and audits it', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${ids[0]}/adjudication`,
      headers: bearer(t.tokens.operator),
      payload: { outcome: 'engaged', note: "'; DROP TABLE alerts; --" },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({
      alertId: ids[0],
      outcome: 'engaged',
      note: "'; DROP TABLE alerts; --",
    });
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${assigned.deploymentId}/alerts?limit=200`,
      headers: bearer(t.tokens.operator),
    });
    const alert = listed.json().alerts.find((a: { id: string }) => a.id === ids[0]);
    expect(alert.adjudications).toHaveLength(1);
    expect(alert.adjudications[0].outcome).toBe('engaged');
    const audit = await new AuditRepository(t.deps.db).list({ action: 'alert.adjudicate' });
    expect(audit[0]).toMatchObject({ targetId: ids[0], actorName: 'operator-user' });
    expect(JSON.stringify(audit[0]!.details)).not.toContain('DROP');
  });

  it('passes an alert to an officer, who sees it with location and description and records the outcome', async () => {
    const officers = await t.app.inject({
      method: 'GET',
      url: `/api/v1/deployments/${assigned.deploymentId}/officers`,
      headers: bearer(t.tokens.operator),
    });
    expect(officers.json().map((o: { username: string }) => o.username)).toContain('officer-on-foot');
    const refused = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${ids[1]}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId: await userId(t.app, t.tokens.oversight) },
    });
    expect(refused.statusCode).toBe(422);
    const dispatched = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${ids[1]}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId: officer.id, note: 'by the bus stop' },
    });
    expect(dispatched.statusCode).toBe(201);
    const mine = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dispatches/mine',
      headers: bearer(officer.token),
    });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toHaveLength(1);
    expect(mine.json()[0]).toMatchObject({
      alertId: ids[1],
      note: 'by the bus stop',
      dispatchedByName: 'operator-user',
      description: 'tall, red coat',
      location: 'High Street',
      outcome: null,
      alert: { priority: 'red', cameraName: 'North entrance' },
    });
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${ids[1]}/adjudication`,
      headers: bearer(officer.token),
      payload: { outcome: 'arrested' },
    });
    const after = await t.app.inject({
      method: 'GET',
      url: '/api/v1/dispatches/mine',
      headers: bearer(officer.token),
    });
    expect(after.json()[0].outcome).toMatchObject({ outcome: 'arrested', username: 'officer-on-foot' });
  });

  it('describes every alert route in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of [
      '/api/v1/deployments/{id}/alerts',
      '/api/v1/alerts/{id}/adjudication',
      '/api/v1/alerts/{id}/dispatch',
      '/api/v1/dispatches/mine',
      '/api/v1/deployments/{id}/officers',
    ])
      expect(doc.paths[path], path).toBeTruthy();
  });
});
