import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type {
  AdjudicationPayload,
  AlertPayload,
  ClientToServerEvents,
  PurgedPayload,
  ServerToClientEvents,
  SubscribeAck,
  VerificationPayload,
} from '@vigil/contract';
import { alertCropContext, type Bus, type Database, DataCipher, type NatsBus, subject } from '@vigil/core';
import { createTestBus, uniqueToken } from '@vigil/core/testing';
import type { NewAlert } from '@vigil/matcher';
import { encodeAlert } from '@vigil/proto';
import type { FastifyInstance } from 'fastify';
import { io, type Socket } from 'socket.io-client';
import { createTestApp, login, ROLE_PASSWORD, type TestApp } from './test-app.js';

export interface TestDeployment {
  deploymentId: string;
  cameraId: string;
  subjectId: string;
  referenceImageId: string;
}

/** A deployment with one camera and one watchlist subject, written as the API's routes would. */
export async function createDeployment(db: Database, name = 'Test deployment'): Promise<TestDeployment> {
  const deployment = await db.query<{ id: string }>(
    `INSERT INTO deployments (name, location, threshold, model, status) VALUES ($1, 'High Street', 0.5, 'test-model', 'running') RETURNING id`,
    [name],
  );
  const deploymentId = deployment.rows[0]!.id;
  const camera = await db.query<{ id: string }>(
    `INSERT INTO cameras (deployment_id, name, url) VALUES ($1, 'North entrance', '/tmp/none.mp4') RETURNING id`,
    [deploymentId],
  );
  const watchlist = await db.query<{ id: string }>(`INSERT INTO watchlists (name) VALUES ($1) RETURNING id`, [
    `list for ${name} ${randomBytes(4).toString('hex')}`,
  ]);
  const subjectRow = await db.query<{ id: string }>(
    `INSERT INTO subjects (watchlist_id, label, category, priority, notes) VALUES ($1, 'Jane Roe', 'wanted', 'red', 'tall, red coat') RETURNING id`,
    [watchlist.rows[0]!.id],
  );
  return {
    deploymentId,
    cameraId: camera.rows[0]!.id,
    subjectId: subjectRow.rows[0]!.id,
    referenceImageId: '00000000-0000-4000-8000-000000000001',
  };
}

export async function assignOperator(db: Database, deploymentId: string, userId: string): Promise<void> {
  await db.query('INSERT INTO deployment_operators (deployment_id, user_id) VALUES ($1, $2)', [
    deploymentId,
    userId,
  ]);
}

/** Creates an operator (or a user of another role) and logs in: `{id, token}`. */
export async function createOperator(
  app: FastifyInstance,
  adminToken: string,
  username: string,
  role = 'operator',
) {
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: { authorization: `Bearer ${adminToken}` },
    payload: { username, password: ROLE_PASSWORD, role },
  });
  if (created.statusCode !== 201) throw new Error(`creating ${username}: ${created.body}`);
  return { id: created.json().id as string, token: await login(app, username, ROLE_PASSWORD) };
}

export async function userId(app: FastifyInstance, token: string): Promise<string> {
  const me = await app.inject({
    method: 'GET',
    url: '/api/v1/auth/me',
    headers: { authorization: `Bearer ${token}` },
  });
  return (me.json().user?.id ?? me.json().id) as string;
}

/**
 * Stores an alert the way the matcher does: the row with the probe crop sealed, committed, then the
 * Alert message on the durable stream (`vigil.v1.<deployment>.alerts.<camera>`). Returns the alert id.
 */
export async function storeAlert(
  db: Database,
  bus: Bus,
  cipher: DataCipher,
  deployment: TestDeployment,
  options: { score?: number; probe?: Buffer } = {},
): Promise<{ id: string; probe: Buffer }> {
  const probe =
    options.probe ??
    Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(64), Buffer.from([0xff, 0xd9])]);
  const score = options.score ?? 0.6123;
  const capturedAt = new Date(Date.now() - 200);
  const trackId = randomBytes(6).toString('hex');
  const dedupeKey = `${deployment.deploymentId}:${trackId}:${deployment.subjectId}`;
  const row = await db.query<{ id: string; created_at: Date | string }>(
    `INSERT INTO alerts (deployment_id, camera_id, subject_id, reference_image_id, track_id, label, category, priority,
                         score, threshold, captured_at, encrypted_probe, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, 'Jane Roe', 'wanted', 'red', $6, 0.5, $7, $8, $9) RETURNING id::text AS id, created_at`,
    [
      deployment.deploymentId,
      deployment.cameraId,
      deployment.subjectId,
      deployment.referenceImageId,
      trackId,
      score,
      capturedAt.toISOString(),
      cipher.seal(probe, alertCropContext(dedupeKey)),
      dedupeKey,
    ],
  );
  const id = row.rows[0]!.id;
  await bus.durable.publish(
    subject('alerts', deployment.deploymentId, deployment.cameraId),
    encodeAlert({
      id,
      deploymentId: deployment.deploymentId,
      cameraId: deployment.cameraId,
      subjectId: deployment.subjectId,
      referenceImageId: deployment.referenceImageId,
      trackId,
      label: 'Jane Roe',
      category: 'wanted',
      priority: 'red',
      score,
      threshold: 0.5,
      capturedAtMs: capturedAt.getTime(),
      createdAtMs: new Date(row.rows[0]!.created_at).getTime(),
      probeJpeg: probe,
    }),
  );
  return { id, probe };
}

/**
 * One view of a person walking past the deployment's camera (track `walker`), as the matcher hands it
 * to its MatchedAlertRepository: the crop sealed to its own row and, for a better view, to the track's.
 */
export function trackView(
  cipher: DataCipher,
  deployment: TestDeployment,
  view: { sequence: number; quality: number; crop: Buffer; score?: number },
): NewAlert {
  const { deploymentId, cameraId, subjectId } = deployment;
  const dedupeKey = `${deploymentId}/${cameraId}/${view.sequence}/walker/${subjectId}`;
  return {
    deploymentId,
    cameraId,
    subjectId,
    referenceImageId: deployment.referenceImageId,
    trackId: 'walker',
    label: 'Jane Roe',
    category: 'wanted',
    priority: 'red',
    score: view.score ?? 0.61,
    threshold: 0.5,
    capturedAt: new Date(),
    encryptedProbe: cipher.seal(view.crop, alertCropContext(dedupeKey)),
    dedupeKey,
    probeQuality: view.quality,
    sealProbeFor: (rowKey) => cipher.seal(view.crop, alertCropContext(rowKey)),
  };
}

export type AlertClient = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A socket.io client of `/alerts` that records what it receives. */
export class RecordingClient {
  readonly alerts: AlertPayload[] = [];
  readonly adjudications: AdjudicationPayload[] = [];
  readonly verifications: VerificationPayload[] = [];
  readonly purged: PurgedPayload[] = [];
  /** Subscriptions the server ended (access withdrawn). */
  readonly withdrawn: string[] = [];
  /** Why the socket was disconnected, once it was. */
  disconnectReason: string | undefined;
  readonly socket: AlertClient;

  constructor(baseUrl: string, token: string | undefined) {
    this.socket = io(`${baseUrl}/alerts`, {
      path: '/socket.io',
      auth: token === undefined ? {} : { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.socket.on('alert', (alert) => this.alerts.push(alert));
    this.socket.on('adjudication', (adjudication) => this.adjudications.push(adjudication));
    this.socket.on('verification', (verification) => this.verifications.push(verification));
    this.socket.on('purged', (purged) => this.purged.push(purged));
    this.socket.on('unsubscribed', (notice) => this.withdrawn.push(notice.deploymentId));
    this.socket.on('disconnect', (reason) => {
      this.disconnectReason = reason;
    });
  }

  /** Resolves when connected, rejects with the server's connect_error. */
  connected(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.connected) return resolve();
      this.socket.once('connect', () => resolve());
      this.socket.once('connect_error', (error) => reject(error));
    });
  }

  subscribe(deploymentId: string, since?: string): Promise<SubscribeAck> {
    return this.socket.emitWithAck(
      'subscribe',
      since === undefined ? { deploymentId } : { deploymentId, since },
    );
  }

  close(): void {
    this.socket.disconnect();
  }
}

export function baseUrlOf(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

/** Deletes a test's durable consumer from the alert stream on NATS, so test runs leave none behind. */
export async function removeAlertConsumer(name: string): Promise<void> {
  if (!process.env.NATS_URL) return;
  const bus = await createTestBus('realtime-cleanup');
  try {
    const jsm = await jetstreamManager((bus as NatsBus).connection);
    await jsm.consumers.delete('VIGIL_ALERTS', name).catch(() => false);
  } finally {
    await bus.close();
  }
}

/** A test app listening for alert sockets, with its own data key and alert-stream consumer. */
export interface RealtimeTestApp extends TestApp {
  cipher: DataCipher;
  /** http://127.0.0.1:port the app listens on. */
  url: string;
  /** Opens an alert socket as `token` on `base` (default: this app); closed with the app. */
  client(token: string | undefined, base?: string): RecordingClient;
  /** Stores an alert of `deployment` as the matcher does: its row and its copy on the alert stream. */
  store(deployment: TestDeployment): ReturnType<typeof storeAlert>;
  /** A running deployment with one camera and one subject (`createDeployment`). */
  deployment(name: string): Promise<TestDeployment>;
  /** A new operator (or a user of `role`) created by the admin, logged in. */
  operator(username: string, role?: string): ReturnType<typeof createOperator>;
  /** Assigns a user to a deployment. */
  assign(deploymentId: string, userId: string): Promise<void>;
  /** The id of the user a token belongs to. */
  userId(token: string): Promise<string>;
}

/**
 * The socket tests' app: a real API over a fresh database and bus, listening on a free port, with a
 * durable consumer name of its own (tests sharing a nats-server never take each other's alerts).
 * `close` closes its sockets and the app and deletes the consumer.
 */
export async function startRealtimeApp(): Promise<RealtimeTestApp> {
  const cipher = new DataCipher(randomBytes(32));
  const consumer = `test-${uniqueToken()}`;
  const t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const url = baseUrlOf(t.app);
  const clients: RecordingClient[] = [];
  return {
    ...t,
    cipher,
    url,
    client(token, base = url) {
      const client = new RecordingClient(base, token);
      clients.push(client);
      return client;
    },
    store: (deployment) => storeAlert(t.deps.db, t.deps.bus, cipher, deployment),
    deployment: (name) => createDeployment(t.deps.db, name),
    operator: (username, role) => createOperator(t.app, t.tokens.admin, username, role),
    assign: (deploymentId, user) => assignOperator(t.deps.db, deploymentId, user),
    userId: (token) => userId(t.app, token),
    async close() {
      for (const client of clients) client.close();
      await t.close();
      await removeAlertConsumer(consumer);
    },
  };
}
