import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { LiveViewPayload } from '@vigil/contract';
import {
  ALERT_STREAM_SUBJECTS,
  AuditRepository,
  createLogger,
  DataCipher,
  deploymentSubjects,
  type NatsBus,
  subject,
  subjectMatches,
} from '@vigil/core';
import { backendName, uniqueToken, waitFor } from '@vigil/core/testing';
import { startDetectorWorker, type Worker } from '@vigil/detector';
import { engineAnalyser, FaceEngine, LIVE_GATE, type SceneBox } from '@vigil/face-runtime';
import { decodeFace, decodeSceneImage, encodeFrame, encodeSceneRequest, type Face } from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assignOperator,
  baseUrlOf,
  createDeployment,
  createOperator,
  RecordingClient,
  removeAlertConsumer,
  type TestDeployment,
  userId,
} from '../../services/api/test/realtime-fixtures.js';
import { createTestApp, type TestApp } from '../../services/api/test/test-app.js';
import { SAMPLES } from './pipeline.fixtures.js';

/** Issue #23: a camera's live view over the operator's socket, every face blurred but those that alerted. */
describe(`a camera's live view, real detector to an operator's socket (${backendName})`, () => {
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;
  let engine: FaceEngine;
  let detector: Worker;
  let deployment: TestDeployment;
  let frame: Buffer;
  let sequence = 0;
  let publishing: NodeJS.Timeout | undefined;
  /** Faces the detector sent on (with their frames), and live frames seen on the bus. */
  const sent: Face[] = [];
  let seen = 0;
  const clients: RecordingClient[] = [];

  /** Frames of the camera (sample1: three people) at 5 fps, as ingest would send them. */
  const startCamera = () => {
    const { deploymentId, cameraId } = deployment;
    publishing = setInterval(() => {
      sequence++;
      t.deps.bus.publish(
        subject('frames', deploymentId, cameraId),
        encodeFrame({ deploymentId, cameraId, sequence, capturedAtMs: Date.now(), jpeg: frame }),
      );
    }, 200);
  };
  const watcher = async (token: string) => {
    const client = new RecordingClient(baseUrlOf(t.app), token);
    clients.push(client);
    const frames: LiveViewPayload[] = [];
    client.socket.on('liveview', (payload) => frames.push(payload));
    await client.connected();
    const watch = () =>
      client.socket.timeout(5000).emitWithAck('watch', {
        deploymentId: deployment.deploymentId,
        cameraId: deployment.cameraId,
      });
    return { client, frames, watch };
  };
  /** Faces the detector finds with confidence in a live frame (blurred blobs score under 0.35). */
  const confidentFaces = async (payload: LiveViewPayload) => {
    const jpeg = Buffer.from(payload.image.replace('data:image/jpeg;base64,', ''), 'base64');
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    return (await engine.detect(jpeg)).faces
      .filter(({ face }) => face.score >= 0.5)
      .map(({ face }) => face.box);
  };

  beforeAll(async () => {
    t = await createTestApp({
      cipher: new DataCipher(randomBytes(32)),
      env: { VIGIL_ALERT_CONSUMER: consumer },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    deployment = await createDeployment(t.deps.db, 'Live view');
    await assignOperator(t.deps.db, deployment.deploymentId, await userId(t.app, t.tokens.operator));
    engine = await FaceEngine.load({ profile: 'default' });
    frame = await sharp(fs.readFileSync(path.join(SAMPLES, 'sample1.jpg')))
      .resize(960)
      .jpeg({ quality: 90 })
      .toBuffer();
    t.deps.bus.subscribe(deploymentSubjects('faces', deployment.deploymentId), (m) => {
      sent.push(decodeFace(m.data));
    });
    t.deps.bus.subscribe(deploymentSubjects('liveview', deployment.deploymentId), () => {
      seen++;
    });
    detector = startDetectorWorker({
      bus: t.deps.bus,
      analyser: engineAnalyser(engine),
      logger: createLogger({ level: 'silent' }),
      gate: LIVE_GATE,
      subject: deploymentSubjects('frames', deployment.deploymentId),
    });
  }, 120_000);
  afterAll(async () => {
    if (publishing) clearInterval(publishing);
    for (const c of clients) c.close();
    await detector?.stop();
    await engine?.dispose();
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it('sends a watching operator a few frames a second, every face blurred, and nothing to a user not assigned', async () => {
    const operator = await watcher(t.tokens.operator);
    const stranger = await watcher((await createOperator(t.app, t.tokens.admin, `s-${uniqueToken()}`)).token);
    expect(await stranger.watch()).toMatchObject({ ok: false, error: { code: 'not_assigned' } });
    expect(await operator.watch()).toMatchObject({ ok: true });
    const audit = await new AuditRepository(t.deps.db).list({ action: 'camera.live_view' });
    expect(audit[0]?.details).toEqual({ cameraId: deployment.cameraId });

    startCamera();
    await waitFor(() => operator.frames.length >= 3, 30_000);
    const first = operator.frames[0] as LiveViewPayload;
    expect(first).toMatchObject({
      deploymentId: deployment.deploymentId,
      cameraId: deployment.cameraId,
      width: 640,
    });
    // 2 fps at most: 5 frames a second come in, far fewer go out.
    const [a, b] = operator.frames.slice(-2).map((f) => Date.parse(f.capturedAt)) as [number, number];
    expect(b - a).toBeGreaterThanOrEqual(400);
    expect(await confidentFaces(first)).toEqual([]);
    expect(stranger.frames).toEqual([]);
  }, 60_000);

  it('shows the face of a track that alerted unblurred once the matcher asked for its scene, the others still blurred', async () => {
    // What the matcher does when the right-most person's face alerts: it asks for the alert's scene,
    // naming the frame and the box the detector sent with the face.
    const enrolled = sent.find((face) => (face.box?.x ?? 0) > 500);
    if (!enrolled?.frame || !enrolled.box)
      throw new Error('the detector sent no face of the right-most person');
    const answer = await t.deps.bus.request(
      subject('scenes', deployment.deploymentId, deployment.cameraId),
      encodeSceneRequest({ frame: enrolled.frame, trackId: enrolled.trackId, box: enrolled.box }),
      { timeoutMs: 5000 },
    );
    expect(decodeSceneImage(answer.data).width).toBe(960);
    const asked = Date.now();
    const operator = await watcher(t.tokens.operator);
    expect(await operator.watch()).toMatchObject({ ok: true });
    const after = await waitFor(() => operator.frames.find((f) => Date.parse(f.capturedAt) > asked), 20_000);
    const found = await confidentFaces(after as LiveViewPayload);
    expect(found).toHaveLength(1);
    // The right-most face, at the live view's scale (960 -> 640).
    expect((found[0] as SceneBox)[0]).toBeGreaterThan(enrolled.box.x * (640 / 960) - 20);
  }, 60_000);

  it('ends the live view at once when the watching operator is unassigned (access withdrawn)', async () => {
    const user = await createOperator(t.app, t.tokens.admin, `u-${uniqueToken()}`);
    await assignOperator(t.deps.db, deployment.deploymentId, user.id);
    const operator = await watcher(user.token);
    const ended: string[] = [];
    operator.client.socket.on('unwatched', (notice) => ended.push(notice.cameraId));
    expect(await operator.watch()).toMatchObject({ ok: true });
    await waitFor(() => operator.frames.length >= 1, 20_000);
    await t.deps.db.query('DELETE FROM deployment_operators WHERE user_id = $1', [user.id]);
    t.app.accessChanged({ userId: user.id, deploymentId: deployment.deploymentId });
    // At once, not at the next 2 s re-check.
    await waitFor(() => ended.length === 1, 1000);
    expect(ended).toEqual([deployment.cameraId]);
    const count = operator.frames.length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(operator.frames.length).toBe(count);
  }, 60_000);

  it('stops sending once nobody watches, and keeps nothing: no stream captures live frames, no row is written', async () => {
    for (const c of clients) c.close();
    const operator = await watcher(t.tokens.operator);
    const frames = (): number => operator.frames.length;
    // The detectors hear no notice for LIVE_DEMAND_MS (5 s) and stop composing.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    const nats = seen;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(seen).toBe(nats);
    expect(frames()).toBe(0);
    const live = subject('liveview', deployment.deploymentId, deployment.cameraId);
    expect(ALERT_STREAM_SUBJECTS.some((pattern) => subjectMatches(pattern, live))).toBe(false);
    if (t.deps.bus.kind === 'nats') {
      const jsm = await jetstreamManager((t.deps.bus as NatsBus).connection);
      for await (const stream of jsm.streams.list())
        for (const pattern of stream.config.subjects ?? [])
          expect(subjectMatches(pattern, live), `${stream.config.name} captures ${pattern}`).toBe(false);
    }
    const alerts = await t.deps.db.query('SELECT 1 FROM alerts WHERE deployment_id = $1', [
      deployment.deploymentId,
    ]);
    expect(alerts.rows).toEqual([]);
  }, 60_000);
});
