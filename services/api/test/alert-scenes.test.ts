import { randomBytes } from 'node:crypto';
import { AuditRepository, alertSceneContext, DataCipher } from '@vigil/core';
import { backendName, uniqueToken } from '@vigil/core/testing';
import { MatchedAlertRepository } from '@vigil/matcher';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionRepository } from '../src/oversight/retention.repository.js';
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

/** Issue #23: the scene kept with an alert is served only to those who may see the alert, every view audited. */
describe(`GET /alerts/:id/scene (${backendName})`, () => {
  const cipher = new DataCipher(randomBytes(32));
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;
  let deployment: TestDeployment;
  let operatorId: string;
  let scene: Buffer;

  const get = (alertId: string, token: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1/alerts/${alertId}/scene`, headers: bearer(token) });
  const sceneViews = () => new AuditRepository(t.deps.db).list({ action: 'alert_scene.view' });
  /** An alert of the test deployment with `jpeg` kept as its scene, as the matcher keeps it. */
  const alertWithScene = async (jpeg: Buffer) => {
    const { id } = await storeAlert(t.deps.db, t.deps.bus, cipher, deployment);
    const stored = await new MatchedAlertRepository(t.deps.db).storeScene(id, (key) =>
      cipher.seal(jpeg, alertSceneContext(key)),
    );
    expect(stored).toBe(true);
    return id;
  };

  beforeAll(async () => {
    t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
    deployment = await createDeployment(t.deps.db, 'Scenes');
    operatorId = await userId(t.app, t.tokens.operator);
    await assignOperator(t.deps.db, deployment.deploymentId, operatorId);
    scene = await sharp({ create: { width: 64, height: 36, channels: 3, background: '#246' } })
      .jpeg()
      .toBuffer();
  });
  afterAll(async () => {
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it('serves the scene as a JPEG to an assigned operator and audits the view first', async () => {
    const id = await alertWithScene(scene);
    const before = (await sceneViews()).length;
    const response = await get(id, t.tokens.operator);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.rawPayload.equals(scene)).toBe(true);
    const views = await sceneViews();
    expect(views).toHaveLength(before + 1);
    expect(views[0]).toMatchObject({
      actorId: operatorId,
      action: 'alert_scene.view',
      targetType: 'deployment',
      targetId: deployment.deploymentId,
      details: { alertIds: [id] },
    });
    // A scene is kept once: a late second answer does not replace what was shown.
    expect(await new MatchedAlertRepository(t.deps.db).storeScene(id, (key) => cipher.seal(scene, key))).toBe(
      false,
    );
  });

  it('refuses users who may not see the alert, answers 404 when no scene was kept, and audits neither', async () => {
    const id = await alertWithScene(scene);
    const before = (await sceneViews()).length;
    const stranger = await createOperator(t.app, t.tokens.admin, `stranger-${uniqueToken()}`);
    expect((await get(id, stranger.token)).statusCode).toBe(403);
    // An officer sees the scenes of the alerts passed to them, and no others.
    expect((await get(id, t.tokens.officer)).statusCode).toBe(403);
    expect((await get(id, t.tokens.watchlist_manager)).statusCode).toBe(403);
    expect((await get(id, t.tokens.oversight)).statusCode).toBe(403);
    const { id: bare } = await storeAlert(t.deps.db, t.deps.bus, cipher, deployment);
    const missing = await get(bare, t.tokens.operator);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('not_found');
    expect((await get('999999999', t.tokens.operator)).statusCode).toBe(404);
    expect((await get('not-an-id', t.tokens.operator)).statusCode).toBe(400);
    expect(await sceneViews()).toHaveLength(before);
  });

  it('serves it to the officer the alert was passed to', async () => {
    const id = await alertWithScene(scene);
    const officerId = await userId(t.app, t.tokens.officer);
    await assignOperator(t.deps.db, deployment.deploymentId, officerId);
    const passed = await t.app.inject({
      method: 'POST',
      url: `/api/v1/alerts/${id}/dispatch`,
      headers: bearer(t.tokens.operator),
      payload: { officerId },
    });
    expect(passed.statusCode).toBe(201);
    const response = await get(id, t.tokens.officer);
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(scene)).toBe(true);
  });

  it('does not open in another alert’s row', async () => {
    const a = await alertWithScene(scene);
    const { id: b } = await storeAlert(t.deps.db, t.deps.bus, cipher, deployment);
    await t.deps.db.query(
      'UPDATE alerts SET encrypted_scene = (SELECT encrypted_scene FROM alerts WHERE id = $1) WHERE id = $2',
      [a, b],
    );
    const moved = await get(b, t.tokens.operator);
    expect(moved.statusCode).toBe(500);
    expect(moved.json().error.code).toBe('decryption_failed');
  });

  it('is deleted with its alert when retention deletes the alert', async () => {
    const id = await alertWithScene(scene);
    await t.deps.db.transaction((tx) =>
      new RetentionRepository(t.deps.db).deleteAlerts(tx, new Date(Date.now() + 60_000)),
    );
    const { rows } = await t.deps.db.query('SELECT 1 FROM alerts WHERE encrypted_scene IS NOT NULL');
    expect(rows).toHaveLength(0);
    expect((await get(id, t.tokens.operator)).statusCode).toBe(404);
  });
});
