import { randomUUID } from 'node:crypto';
import {
  alertCropContext,
  type Bus,
  createLogger,
  createMetrics,
  type Database,
  DataCipher,
  deploymentSubjects,
  subject,
  toVectorParam,
} from '@vigil/core';
import {
  backendName,
  createTestBus,
  createTestDatabase,
  type TestDatabase,
  waitFor,
} from '@vigil/core/testing';
import {
  create,
  decodeAlert,
  type Embedding,
  EmbeddingSchema,
  encodeDeploymentChanged,
  encodeEmbedding,
  QualitySchema,
} from '@vigil/proto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentCounters } from '../src/deployment-counters.repository.js';
import { MatchedAlertRepository } from '../src/matched-alert.repository.js';
import { startMatcherWorker } from '../src/matcher.handler.js';
import { MatcherService } from '../src/matcher.service.js';
import { encodeProbeJpeg } from '../src/probe-image.js';
import { SnapshotRepository } from '../src/snapshot.repository.js';

const MODEL = 'test-model-v1';
const DIMS = 128;
const THRESHOLD = 0.6;
const logger = createLogger({ level: 'silent' });
const cipher = new DataCipher(Buffer.alloc(32, 7));

let testDb: TestDatabase;
let db: Database;
let bus: Bus;

/** Deterministic pseudo-random unit vector. */
function unitVector(seed: number): number[] {
  let state = seed * 7919 + 17;
  const v = Array.from({ length: DIMS }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31 - 0.5;
  });
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** `base` moved towards `noiseSeed`'s vector, renormalised: a second view of the same face. */
function near(base: number[], noiseSeed: number, amount: number): number[] {
  const noise = unitVector(noiseSeed);
  const v = base.map((x, i) => x + amount * (noise[i] as number));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

async function makeDeployment(status: 'running' | 'stopped' = 'running') {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO deployments (name, threshold, model, status) VALUES ('d', $1, $2, $3) RETURNING id`,
    [THRESHOLD, MODEL, status],
  );
  const deploymentId = (rows[0] as { id: string }).id;
  const subjects = [
    { id: randomUUID(), label: 'Subject A', vectors: [unitVector(1), near(unitVector(1), 99, 0.3)] },
    { id: randomUUID(), label: 'Subject B', vectors: [unitVector(2)] },
  ];
  for (const s of subjects) {
    for (const v of s.vectors) {
      await db.query(
        `INSERT INTO snapshot_entries (deployment_id, subject_id, reference_image_id, label, category, priority, model, embedding)
         VALUES ($1, $2, $3, $4, 'wanted', 'red', $5, $6::vector)`,
        [deploymentId, s.id, randomUUID(), s.label, MODEL, toVectorParam(v)],
      );
    }
  }
  return { deploymentId, cameraId: randomUUID(), subjects };
}

function embedding(
  deploymentId: string,
  cameraId: string,
  vector: number[],
  sequence = 1,
  trackId = 't1',
): Embedding {
  const crop = new Uint8Array(16 * 16 * 3).fill(200);
  return create(EmbeddingSchema, {
    frame: { deploymentId, cameraId, sequence, capturedAtMs: Date.now() },
    trackId,
    modelId: MODEL,
    vector,
    crop,
    cropWidth: 16,
    cropHeight: 16,
  });
}

function service(hnswMinSize = 1_000_000, counters = new DeploymentCounters(db, logger, 50)) {
  return new MatcherService(
    {
      snapshots: new SnapshotRepository(db),
      alerts: new MatchedAlertRepository(db),
      counters,
      cipher,
      encodeProbe: encodeProbeJpeg,
      logger,
    },
    { hnswMinSize, cooldownSeconds: 30, deploymentCacheMs: 0 },
  );
}

describe(`matcher (${backendName})`, () => {
  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = testDb.db;
    bus = await createTestBus('matcher-test');
  });
  afterAll(async () => {
    await bus.close();
    await testDb.drop();
  });

  it('stores a match as an alert with the sealed probe, best subject, deployment threshold', async () => {
    const { deploymentId, cameraId, subjects } = await makeDeployment();
    const probe = near(unitVector(1), 5, 0.4);
    expect(cosine(probe, unitVector(1))).toBeGreaterThan(THRESHOLD);
    // Best entry of the subject: the closer of its two references.
    const best = Math.max(...(subjects[0]?.vectors ?? []).map((v) => cosine(probe, v)));
    const outcome = await service().handle(embedding(deploymentId, cameraId, probe));
    expect(outcome.kind).toBe('alert');
    const { rows } = await db.query<{
      subject_id: string;
      label: string;
      score: number;
      threshold: number;
      encrypted_probe: Buffer;
      dedupe_key: string;
    }>(
      `SELECT subject_id, label, score, threshold, encrypted_probe, dedupe_key FROM alerts WHERE deployment_id = $1`,
      [deploymentId],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0] as (typeof rows)[number];
    expect(row.subject_id).toBe(subjects[0]?.id);
    expect(row.label).toBe('Subject A');
    expect(row.threshold).toBeCloseTo(THRESHOLD, 5);
    expect(row.score).toBeCloseTo(best, 4);
    const jpeg = cipher.open(row.encrypted_probe, alertCropContext(row.dedupe_key));
    expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    // Bound to its row: moved to another alert (another dedupe key), the crop does not open.
    expect(() => cipher.open(row.encrypted_probe, alertCropContext(`${row.dedupe_key}x`))).toThrow();
  });

  it('forgets a non-match: no row, vector and crop zero-filled, only the counter moves', async () => {
    const counters = new DeploymentCounters(db, logger, 50);
    const { deploymentId, cameraId } = await makeDeployment();
    const stranger = embedding(deploymentId, cameraId, unitVector(12345));
    expect(cosine([...stranger.vector], unitVector(1))).toBeLessThan(THRESHOLD);
    const outcome = await service(1_000_000, counters).handle(stranger);
    expect(outcome.kind).toBe('no_match');
    expect(stranger.vector.every((x) => x === 0)).toBe(true);
    expect(stranger.crop.every((x) => x === 0)).toBe(true);
    await counters.flush();
    const alerts = await db.query(`SELECT 1 FROM alerts WHERE deployment_id = $1`, [deploymentId]);
    expect(alerts.rows).toHaveLength(0);
    const { rows } = await db.query<{ faces_processed: string; faces_matched: string }>(
      `SELECT faces_processed, faces_matched FROM deployment_counters WHERE deployment_id = $1`,
      [deploymentId],
    );
    expect(rows.map((r) => [Number(r.faces_processed), Number(r.faces_matched)])).toEqual([[1, 0]]);
  });

  it('raises one alert per camera and subject within the cooldown, and one row for a redelivered message', async () => {
    const { deploymentId, cameraId } = await makeDeployment();
    const matcher = service();
    const first = embedding(deploymentId, cameraId, near(unitVector(1), 6, 0.3), 10, 'track-1');
    const again = create(EmbeddingSchema, { ...first, vector: [...first.vector], crop: first.crop.slice() });
    expect((await matcher.handle(first)).kind).toBe('alert');
    expect(await matcher.handle(again)).toEqual({ kind: 'suppressed', reason: 'duplicate' });
    const later = embedding(deploymentId, cameraId, near(unitVector(1), 7, 0.3), 11, 'track-1b');
    expect(await matcher.handle(later)).toEqual({ kind: 'suppressed', reason: 'cooldown' });
    const otherCamera = embedding(deploymentId, randomUUID(), near(unitVector(1), 8, 0.3), 12, 'track-2');
    expect((await matcher.handle(otherCamera)).kind).toBe('alert');
    const otherSubject = embedding(deploymentId, cameraId, near(unitVector(2), 9, 0.3), 13, 'track-3');
    expect((await matcher.handle(otherSubject)).kind).toBe('alert');
    const { rows } = await db.query(`SELECT 1 FROM alerts WHERE deployment_id = $1`, [deploymentId]);
    expect(rows).toHaveLength(3);
  });

  it('raises one alert per person passing: a track that stays in view past the cooldown alerts once', async () => {
    // Issue 21: one person on one camera made 13 alerts in 7 minutes, one per cooldown window.
    const { deploymentId, cameraId } = await makeDeployment();
    const matcher = service();
    const at = (sequence: number, seconds: number, track: string) => {
      const e = embedding(deploymentId, cameraId, near(unitVector(1), sequence, 0.3), sequence, track);
      if (e.frame) e.frame.capturedAtMs = Date.now() + seconds * 1000;
      return e;
    };
    expect((await matcher.handle(at(20, 0, 'walker'))).kind).toBe('alert');
    // Still the same track a minute and two minutes on, well past the 30 s cooldown.
    expect(await matcher.handle(at(21, 60, 'walker'))).toEqual({ kind: 'suppressed', reason: 'same_track' });
    expect(await matcher.handle(at(22, 120, 'walker'))).toEqual({ kind: 'suppressed', reason: 'same_track' });
    // The same person back later on a new track is a new passing.
    expect((await matcher.handle(at(23, 180, 'walker-again'))).kind).toBe('alert');
    const { rows } = await db.query(`SELECT 1 FROM alerts WHERE deployment_id = $1`, [deploymentId]);
    expect(rows).toHaveLength(2);
  });

  it('finds the same subjects and scores through the HNSW index as by exact search', async () => {
    const { deploymentId } = await makeDeployment();
    const snapshots = new SnapshotRepository(db);
    for (const seed of [1, 2, 3, 4, 5]) {
      const probe = near(unitVector(seed % 3), seed + 40, 0.35);
      const exact = await snapshots.matchExact(deploymentId, MODEL, probe, 0.3);
      const hnsw = await snapshots.matchHnsw(deploymentId, MODEL, probe, 0.3);
      expect(hnsw.map((m) => m.subjectId)).toEqual(exact.map((m) => m.subjectId));
      for (const [i, m] of hnsw.entries()) expect(m.score).toBeCloseTo(exact[i]?.score as number, 5);
    }
    const indexes = await db.query<{ indexdef: string }>(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'snapshot_entries' AND indexdef ILIKE '%hnsw%'`,
    );
    expect(indexes.rows.length).toBeGreaterThan(0);
  });

  it('ignores embeddings of a deployment that is not running or of another model', async () => {
    const stopped = await makeDeployment('stopped');
    const matcher = service();
    expect(await matcher.handle(embedding(stopped.deploymentId, stopped.cameraId, unitVector(1)))).toEqual({
      kind: 'dropped',
      reason: 'not_running',
    });
    const running = await makeDeployment();
    const other = embedding(running.deploymentId, running.cameraId, unitVector(1));
    other.modelId = 'another-model';
    expect((await matcher.handle(other)).kind).toBe('dropped');
    const { rows } = await db.query(`SELECT 1 FROM alerts WHERE deployment_id IN ($1, $2)`, [
      stopped.deploymentId,
      running.deploymentId,
    ]);
    expect(rows).toHaveLength(0);
  });

  // Regression (issue #26): a split-mode matcher kept a stopped deployment's series until it restarted.
  it("drops a stopped deployment's series from its registry when the API's stop notice comes", async () => {
    const { deploymentId, cameraId } = await makeDeployment();
    const metrics = createMetrics({ role: 'matcher', processMetrics: false });
    const matcher = new MatcherService(
      {
        snapshots: new SnapshotRepository(db),
        alerts: new MatchedAlertRepository(db),
        counters: new DeploymentCounters(db, logger, 50),
        cipher,
        encodeProbe: encodeProbeJpeg,
        logger,
        metrics,
      },
      // A long cache: the notice itself must make the matcher read the status again.
      { hnswMinSize: 1_000_000, cooldownSeconds: 30, deploymentCacheMs: 600_000, forgetGraceMs: 100 },
    );
    const worker = startMatcherWorker({
      bus,
      service: matcher,
      logger,
      metrics,
      subject: deploymentSubjects('embeddings', deploymentId),
    });
    const stranger = (sequence: number) =>
      encodeEmbedding(embedding(deploymentId, cameraId, unitVector(500 + sequence), sequence, 'stranger'));
    const exposed = async () => (await metrics.text()).includes(deploymentId);
    try {
      bus.publish(subject('embeddings', deploymentId, cameraId), stranger(1));
      await waitFor(exposed, 15_000);
      await db.query(`UPDATE deployments SET status = 'stopped', stopped_at = now() WHERE id = $1`, [
        deploymentId,
      ]);
      bus.publish(
        subject('control', deploymentId, 'deployment'),
        encodeDeploymentChanged({ deploymentId, reason: 'stopped' }),
      );
      await waitFor(async () => !(await exposed()), 15_000);
      // A late embedding of the ended deployment is counted without its id, and its series stay gone.
      bus.publish(subject('embeddings', deploymentId, cameraId), stranger(2));
      await waitFor(async () => (await metrics.text()).includes('reason="deployment_ended"'), 15_000);
      expect(await exposed()).toBe(false);
    } finally {
      await worker.stop();
    }
  });

  it('publishes a stored alert on the durable stream from the bus handler', async () => {
    const { deploymentId, cameraId, subjects } = await makeDeployment();
    const worker = startMatcherWorker({
      bus,
      service: service(),
      logger,
      alerts: new MatchedAlertRepository(db),
    });
    const received: ReturnType<typeof decodeAlert>[] = [];
    const consumer = await bus.durable.consume(
      {
        durableName: `matcher-test-${deploymentId.slice(0, 8)}`,
        filter: deploymentSubjects('alerts', deploymentId),
      },
      async (m) => {
        received.push(decodeAlert(m.data));
      },
    );
    try {
      bus.publish(
        subject('embeddings', deploymentId, cameraId),
        encodeEmbedding(embedding(deploymentId, cameraId, near(unitVector(2), 3, 0.3))),
      );
      bus.publish(
        subject('embeddings', deploymentId, cameraId),
        encodeEmbedding(embedding(deploymentId, cameraId, unitVector(777), 2, 'stranger')),
      );
      await waitFor(() => received.length >= 1, 15_000);
      await worker.stop();
      expect(received).toHaveLength(1);
      const alert = received[0] as (typeof received)[number];
      expect(alert.subjectId).toBe(subjects[1]?.id);
      expect(alert.label).toBe('Subject B');
      expect(alert.cameraId).toBe(cameraId);
      // The stream would keep a crop unencrypted: it carries none; the row holds it sealed.
      expect(alert.probeJpeg).toHaveLength(0);
      const { rows } = await db.query<{
        id: string;
        encrypted_probe: Uint8Array;
        dedupe_key: string;
        published: boolean;
      }>(
        `SELECT id::text AS id, encrypted_probe, dedupe_key, published_at IS NOT NULL AS published FROM alerts WHERE deployment_id = $1`,
        [deploymentId],
      );
      expect(rows.map((r) => r.id)).toEqual([alert.id]);
      const context = alertCropContext(rows[0]?.dedupe_key as string);
      expect(cipher.open(rows[0]?.encrypted_probe as Uint8Array, context)[0]).toBe(0xff);
      expect(rows[0]?.published).toBe(true);
    } finally {
      await consumer.stop();
    }
  });

  it('republishes, once, an alert a matcher stored but never published (the outbox)', async () => {
    const { deploymentId, cameraId, subjects } = await makeDeployment();
    const alerts = new MatchedAlertRepository(db);
    // A matcher killed between storing and publishing leaves exactly this row behind.
    const stored = await alerts.store(
      {
        deploymentId,
        cameraId,
        subjectId: subjects[0]?.id as string,
        referenceImageId: randomUUID(),
        trackId: 't1',
        label: 'Subject A',
        category: 'wanted',
        priority: 'red',
        score: 0.9,
        threshold: THRESHOLD,
        capturedAt: new Date(),
        encryptedProbe: cipher.seal(Buffer.from([0xff, 0xd8])),
        dedupeKey: `outbox-${deploymentId}`,
      },
      30,
    );
    if (!('stored' in stored)) throw new Error('not stored');
    await db.query(`UPDATE alerts SET created_at = now() - interval '1 minute' WHERE id = $1`, [
      stored.stored.id,
    ]);
    const received: ReturnType<typeof decodeAlert>[] = [];
    const consumer = await bus.durable.consume(
      {
        durableName: `outbox-test-${deploymentId.slice(0, 8)}`,
        filter: deploymentSubjects('alerts', deploymentId),
      },
      async (m) => {
        received.push(decodeAlert(m.data));
      },
    );
    const worker = startMatcherWorker({ bus, service: service(), logger, alerts, outboxIntervalMs: 100 });
    try {
      await waitFor(async () => {
        const { rows } = await db.query(`SELECT 1 FROM alerts WHERE id = $1 AND published_at IS NOT NULL`, [
          stored.stored.id,
        ]);
        return rows.length === 1 && received.length >= 1;
      }, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received.map((a) => a.id)).toEqual([stored.stored.id]);
      expect(received[0]?.probeJpeg).toHaveLength(0);
      // Published again with the same id (a sweep racing a late publish): the stream keeps one.
      const { publishAlert } = await import('../src/matcher.handler.js');
      expect((await alerts.unpublished(0, 1000)).map((a) => a.id)).not.toContain(stored.stored.id);
      await publishAlert(bus, {
        id: stored.stored.id,
        deploymentId,
        cameraId,
        subjectId: subjects[0]?.id as string,
        referenceImageId: '',
        trackId: 't1',
        label: 'Subject A',
        category: 'wanted',
        priority: 'red',
        score: 0.9,
        threshold: THRESHOLD,
        capturedAtMs: Date.now(),
        createdAtMs: Date.now(),
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(received).toHaveLength(1);
    } finally {
      await worker.stop();
      await consumer.stop();
    }
  });

  it('keeps alerts of two databases apart on one stream (regression: same alert id, different deployments)', async () => {
    const { publishAlert } = await import('../src/matcher.handler.js');
    const deployments = [randomUUID(), randomUUID()];
    const received: string[] = [];
    const consumers = await Promise.all(
      deployments.map((deploymentId) =>
        bus.durable.consume(
          {
            durableName: `collide-${deploymentId.slice(0, 8)}`,
            filter: deploymentSubjects('alerts', deploymentId),
          },
          async (m) => {
            received.push(decodeAlert(m.data).deploymentId);
          },
        ),
      ),
    );
    try {
      for (const deploymentId of deployments) {
        // Alert ids restart at 1 in every database; JetStream's de-duplication must not merge them.
        await publishAlert(bus, {
          id: '1',
          deploymentId,
          cameraId: randomUUID(),
          subjectId: randomUUID(),
          referenceImageId: '',
          trackId: 't',
          label: 'x',
          category: 'wanted',
          priority: 'red',
          score: 0.9,
          threshold: THRESHOLD,
          capturedAtMs: Date.now(),
          createdAtMs: Date.now(),
        });
      }
      await waitFor(() => received.length >= 2, 10_000);
      expect(received.sort()).toEqual([...deployments].sort());
    } finally {
      for (const consumer of consumers) await consumer.stop();
    }
  });

  it('decides per person: two views of one track, each below the threshold alone, alert together', async () => {
    const { deploymentId, cameraId, subjects } = await makeDeployment();
    const face = unitVector(1);
    // Two noisy views of subject A: independent noise, each alone below the threshold.
    const first = near(face, 501, 1.5);
    const second = near(face, 502, 1.5);
    expect(cosine(first, face)).toBeLessThan(THRESHOLD);
    expect(cosine(second, face)).toBeLessThan(THRESHOLD);
    const matcher = service();
    expect((await matcher.handle(embedding(deploymentId, cameraId, first, 20, 'walker'))).kind).toBe(
      'no_match',
    );
    // The same second view on a track of its own does not alert (handle zero-fills what it is given)...
    const alone = embedding(deploymentId, cameraId, [...second], 21, 'someone-else');
    expect((await matcher.handle(alone)).kind).toBe('no_match');
    // ...but as the walker's second view it adds to the first: their mean is closer to A than either.
    const outcome = await matcher.handle(embedding(deploymentId, cameraId, second, 22, 'walker'));
    expect(outcome.kind).toBe('alert');
    if (outcome.kind === 'alert') {
      expect(outcome.alert.subjectId).toBe(subjects[0]?.id);
      expect(outcome.alert.trackId).toBe('walker');
      expect(outcome.alert.score).toBeGreaterThan(THRESHOLD);
    }
    // Per person passing: a third view of the walker raises nothing new.
    const third = await matcher.handle(embedding(deploymentId, cameraId, near(face, 503, 0.3), 23, 'walker'));
    expect(third).toEqual({ kind: 'suppressed', reason: 'same_track' });
  });

  it("keeps a stranger's track a stranger: fused views of someone not listed alert for no one", async () => {
    const { deploymentId, cameraId } = await makeDeployment();
    const stranger = unitVector(777);
    const matcher = service();
    for (let view = 0; view < 5; view++) {
      const vector = near(stranger, 900 + view, 0.5);
      const message = embedding(deploymentId, cameraId, vector, 30 + view, 'stranger');
      expect((await matcher.handle(message)).kind).toBe('no_match');
      expect(message.vector.every((x) => x === 0)).toBe(true);
    }
    const { rows } = await db.query(`SELECT 1 FROM alerts WHERE deployment_id = $1`, [deploymentId]);
    expect(rows).toHaveLength(0);
  });

  describe('one alert per person passing, with the best crop', () => {
    /** A view of the walker: its crop one flat grey (`shade`), its quality set by the eye distance. */
    function view(
      deploymentId: string,
      cameraId: string,
      sequence: number,
      interOcular: number,
      shade: number,
    ) {
      const e = embedding(deploymentId, cameraId, near(unitVector(1), sequence, 0.3), sequence, 'walker');
      e.crop.fill(shade);
      e.quality = create(QualitySchema, {
        interOcular,
        sharpness: 60,
        yaw: 0,
        pitch: 0,
        score: 0.9,
        brightness: 120,
      });
      return e;
    }
    async function storedCrop(deploymentId: string) {
      const { rows } = await db.query<{
        id: string;
        encrypted_probe: Buffer;
        dedupe_key: string;
        probe_quality: number | null;
        score: number;
      }>(
        `SELECT id::text AS id, encrypted_probe, dedupe_key, probe_quality, score FROM alerts WHERE deployment_id = $1`,
        [deploymentId],
      );
      expect(rows).toHaveLength(1);
      const row = rows[0] as (typeof rows)[number];
      // Opened with the row's own context: the crop is this alert's, whichever view it came from.
      const jpeg = cipher.open(row.encrypted_probe, alertCropContext(row.dedupe_key));
      const { channels } = await sharp(jpeg).stats();
      return { ...row, shade: Math.round(channels[0]?.mean ?? -1) };
    }

    /** The first view's crop (shade 60) and quality are still the alert's. */
    async function expectFirstCropKept(deploymentId: string, quality: number) {
      const kept = await storedCrop(deploymentId);
      expect(kept.shade).toBeCloseTo(60, -1);
      expect(kept.probe_quality).toBeCloseTo(quality, 3);
    }

    it("replaces the alert's crop with a clearly better view of its track, still one alert", async () => {
      const { deploymentId, cameraId } = await makeDeployment();
      const matcher = service();
      const first = await matcher.handle(view(deploymentId, cameraId, 40, 20, 60));
      expect(first.kind).toBe('alert');
      const before = await storedCrop(deploymentId);
      expect(before.shade).toBeCloseTo(60, -1);
      expect(before.probe_quality).toBeCloseTo(0.3, 3);
      const better = await matcher.handle(view(deploymentId, cameraId, 41, 60, 200));
      expect(better).toEqual({
        kind: 'suppressed',
        reason: 'same_track',
        cropUpgraded: { alertId: before.id, deploymentId, cameraId },
      });
      const after = await storedCrop(deploymentId);
      expect(after.id).toBe(before.id);
      expect(after.shade).toBeCloseTo(200, -1);
      expect(after.probe_quality).toBeCloseTo(0.9, 3);
      expect(after.score).toBeGreaterThanOrEqual(before.score);
    });

    it('keeps the crop when a later view is worse or barely better (under 15%)', async () => {
      const { deploymentId, cameraId } = await makeDeployment();
      const matcher = service();
      expect((await matcher.handle(view(deploymentId, cameraId, 50, 40, 60))).kind).toBe('alert');
      // 0.6 stored: 0.3 is worse, 0.66 only 10% better.
      const worse = await matcher.handle(view(deploymentId, cameraId, 51, 20, 200));
      expect(worse).toEqual({ kind: 'suppressed', reason: 'same_track' });
      const barely = await matcher.handle(view(deploymentId, cameraId, 52, 44, 200));
      expect(barely).toEqual({ kind: 'suppressed', reason: 'same_track' });
      await expectFirstCropKept(deploymentId, 0.6);
    });

    /** What someone did with an alert: after it, the crop they saw stays. */
    const actions: Record<string, (alertId: string) => Promise<unknown>> = {
      'an outcome recorded': (alertId) =>
        db.query(`INSERT INTO adjudications (alert_id, outcome) VALUES ($1, 'confirmed')`, [alertId]),
      'passed to an officer': async (alertId) => {
        const officer = await db.query<{ id: string }>(
          `INSERT INTO users (username, password_hash, role) VALUES ($1, 'x', 'officer') RETURNING id`,
          [`officer-${randomUUID()}`],
        );
        await db.query(`INSERT INTO alert_dispatches (alert_id, officer_id) VALUES ($1, $2)`, [
          alertId,
          officer.rows[0]?.id,
        ]);
      },
    };

    it.each(Object.keys(actions))(
      'never replaces the crop of an alert someone acted on (%s)',
      async (action) => {
        const { deploymentId, cameraId } = await makeDeployment();
        const matcher = service();
        const first = await matcher.handle(view(deploymentId, cameraId, 60, 20, 60));
        if (first.kind !== 'alert') throw new Error(`expected an alert, got ${first.kind}`);
        await actions[action]?.(first.alert.id);
        const better = await matcher.handle(view(deploymentId, cameraId, 61, 60, 200));
        expect(better).toEqual({ kind: 'suppressed', reason: 'same_track' });
        await expectFirstCropKept(deploymentId, 0.3);
      },
    );

    it("tells the API on the bus which alert's crop was replaced, without the crop", async () => {
      const { deploymentId, cameraId } = await makeDeployment();
      const worker = startMatcherWorker({
        bus,
        service: service(),
        logger,
        alerts: new MatchedAlertRepository(db),
      });
      const notices: ReturnType<typeof decodeAlert>[] = [];
      const listener = bus.subscribe(deploymentSubjects('crops', deploymentId), (m) => {
        notices.push(decodeAlert(m.data));
      });
      try {
        const publish = (e: Embedding) =>
          bus.publish(subject('embeddings', deploymentId, cameraId), encodeEmbedding(e));
        publish(view(deploymentId, cameraId, 70, 20, 60));
        await waitFor(
          async () =>
            (await db.query(`SELECT 1 FROM alerts WHERE deployment_id = $1`, [deploymentId])).rows.length ===
            1,
          15_000,
        );
        publish(view(deploymentId, cameraId, 71, 60, 200));
        await waitFor(() => notices.length >= 1, 15_000);
        const { id } = await storedCrop(deploymentId);
        expect(notices.map((n) => [n.id, n.deploymentId, n.cameraId, n.probeJpeg.length])).toEqual([
          [id, deploymentId, cameraId, 0],
        ]);
      } finally {
        listener.unsubscribe();
        await worker.stop();
      }
    });
  });

  it('lets a clear view decide even after a poor one: the view alone and the track mean, the better one', async () => {
    const { deploymentId, cameraId } = await makeDeployment();
    const face = unitVector(1);
    const poor = near(face, 601, 9.9); // turned or far: cosine about 0.1
    const clear = near(face, 602, 1); // cosine about 0.7
    const clearScore = cosine(clear, face);
    expect(clearScore).toBeGreaterThan(THRESHOLD);
    const mean = poor.map((x, i) => x + (clear[i] as number));
    const norm = Math.hypot(...mean);
    expect(
      cosine(
        mean.map((x) => x / norm),
        face,
      ),
    ).toBeLessThan(THRESHOLD);
    const matcher = service();
    expect((await matcher.handle(embedding(deploymentId, cameraId, poor, 40, 'turning'))).kind).toBe(
      'no_match',
    );
    const outcome = await matcher.handle(embedding(deploymentId, cameraId, clear, 41, 'turning'));
    expect(outcome.kind).toBe('alert');
    // The clear view's own score: handle() zero-fills the vectors it is given.
    if (outcome.kind === 'alert') expect(outcome.alert.score).toBeCloseTo(clearScore, 3);
  });
});
