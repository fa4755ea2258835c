import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, type Database, DataCipher, toVectorParam } from '@vigil/core';
import { DeploymentCounters, MatchedAlertRepository } from '@vigil/matcher';

/**
 * Rows written the way the API (deployment start/stop) and the matcher (alerts, counters) write
 * them, so oversight tests do not depend on a camera pipeline. Alerts and counters go through the
 * matcher's own repositories.
 */

export const DIMENSION = 8;

export function randomVector(): number[] {
  const v = Array.from({ length: DIMENSION }, () => Math.random() - 0.5);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

export interface SubjectSpec {
  label: string;
  category: 'wanted' | 'suspect' | 'missing' | 'vulnerable' | 'other';
  expiresAt?: Date;
  images?: number;
  /** The embedding of every image; random when absent. */
  embedding?: number[];
}

export interface SeededSubject {
  id: string;
  label: string;
  category: string;
  referenceImageIds: string[];
  /** The sealed bytes of each reference image, to look for after deletion. */
  sealed: Buffer[];
}

export async function createWatchlist(
  db: Database,
  cipher: DataCipher,
  subjects: SubjectSpec[],
  model = 'test-model',
): Promise<{ id: string; subjects: SeededSubject[] }> {
  const { rows } = await db.query<{ id: string }>(`INSERT INTO watchlists (name) VALUES ($1) RETURNING id`, [
    `list ${randomBytes(3).toString('hex')}`,
  ]);
  const watchlistId = rows[0]!.id;
  const seeded: SeededSubject[] = [];
  for (const spec of subjects) {
    const subject = await db.query<{ id: string }>(
      `INSERT INTO subjects (watchlist_id, label, category, priority, expires_at)
       VALUES ($1, $2, $3, 'red', $4) RETURNING id`,
      [watchlistId, spec.label, spec.category, spec.expiresAt?.toISOString() ?? null],
    );
    const subjectId = subject.rows[0]!.id;
    const referenceImageIds: string[] = [];
    const sealed: Buffer[] = [];
    for (let i = 0; i < (spec.images ?? 1); i++) {
      const blob = cipher.seal(randomBytes(4096));
      const image = await db.query<{ id: string }>(
        `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
         VALUES ($1, $2, $3, 'image/jpeg', 200, 200, '{}'::jsonb, $4) RETURNING id`,
        [subjectId, watchlistId, randomBytes(16).toString('hex'), blob],
      );
      const imageId = image.rows[0]!.id;
      await db.query(
        `INSERT INTO embeddings (reference_image_id, subject_id, model, embedding) VALUES ($1, $2, $3, $4::vector)`,
        [imageId, subjectId, model, toVectorParam(spec.embedding ?? randomVector())],
      );
      referenceImageIds.push(imageId);
      sealed.push(blob);
    }
    seeded.push({ id: subjectId, label: spec.label, category: spec.category, referenceImageIds, sealed });
  }
  return { id: watchlistId, subjects: seeded };
}

export interface SeededDeployment {
  id: string;
  cameraIds: string[];
}

/**
 * A deployment over `watchlistId` with `cameras` cameras. With `startedAt` it is started the way
 * the API starts one: the snapshot frozen from the embeddings and `deployment_subject_log` written.
 */
export async function createDeployment(
  db: Database,
  options: {
    watchlistId: string;
    cameras: number;
    threshold?: number;
    startedAt?: Date;
    stoppedAt?: Date;
    snapshotDestroyAfter?: Date;
  },
): Promise<SeededDeployment> {
  const status = options.stoppedAt ? 'stopped' : options.startedAt ? 'running' : 'planned';
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO deployments (name, location, threshold, model, status, started_at, stopped_at, snapshot_destroy_after)
     VALUES ($1, 'High Street', $2, 'test-model', $3, $4, $5, $6) RETURNING id`,
    [
      `deployment ${randomBytes(3).toString('hex')}`,
      options.threshold ?? 0.6,
      status,
      options.startedAt?.toISOString() ?? null,
      options.stoppedAt?.toISOString() ?? null,
      options.snapshotDestroyAfter?.toISOString() ?? null,
    ],
  );
  const id = rows[0]!.id;
  await db.query('INSERT INTO deployment_watchlists (deployment_id, watchlist_id) VALUES ($1, $2)', [
    id,
    options.watchlistId,
  ]);
  const cameraIds: string[] = [];
  for (let i = 0; i < options.cameras; i++) {
    const camera = await db.query<{ id: string }>(
      `INSERT INTO cameras (deployment_id, name, url) VALUES ($1, $2, 'rtsp://camera.invalid/stream') RETURNING id`,
      [id, `camera ${i + 1}`],
    );
    cameraIds.push(camera.rows[0]!.id);
  }
  if (options.startedAt) {
    await db.query(
      `INSERT INTO snapshot_entries (deployment_id, subject_id, reference_image_id, label, category, priority, model, embedding)
       SELECT $1, s.id, e.reference_image_id, s.label, s.category, s.priority, e.model, e.embedding
         FROM subjects s JOIN embeddings e ON e.subject_id = s.id
        WHERE s.watchlist_id = $2`,
      [id, options.watchlistId],
    );
    await db.query(
      `INSERT INTO deployment_subject_log (deployment_id, subject_id, watchlist_id, label, category, priority)
       SELECT $1, s.id, s.watchlist_id, s.label, s.category, s.priority FROM subjects s WHERE s.watchlist_id = $2`,
      [id, options.watchlistId],
    );
  }
  return { id, cameraIds };
}

/** Records counters through the matcher's batched counter repository. */
export async function recordCounters(
  db: Database,
  rows: { deploymentId: string; cameraId: string; at: Date; frames: number; faces: number }[],
): Promise<void> {
  const counters = new DeploymentCounters(db, createLogger({ level: 'silent' }), 60_000);
  for (const row of rows)
    counters.add(row.deploymentId, row.cameraId, { frames: row.frames, facesProcessed: row.faces }, row.at);
  await counters.close();
}

export interface SeededAlert {
  id: number;
  sealedProbe: Buffer;
}

/** Stores an alert through the matcher's repository (probe sealed), with optional adjudications. */
export async function recordAlert(
  db: Database,
  cipher: DataCipher,
  options: {
    deploymentId: string;
    cameraId: string;
    subject: SeededSubject;
    capturedAt: Date;
    adjudications?: { outcome: string; at: Date }[];
  },
): Promise<SeededAlert> {
  const sealedProbe = cipher.seal(randomBytes(2048));
  const result = await new MatchedAlertRepository(db).store(
    {
      deploymentId: options.deploymentId,
      cameraId: options.cameraId,
      subjectId: options.subject.id,
      referenceImageId: options.subject.referenceImageIds[0]!,
      trackId: randomUUID(),
      label: options.subject.label,
      category: options.subject.category,
      priority: 'red',
      score: 0.81,
      threshold: 0.6,
      capturedAt: options.capturedAt,
      encryptedProbe: sealedProbe,
      dedupeKey: randomUUID(),
    },
    0,
  );
  if (!('stored' in result)) throw new Error(`alert not stored: ${result.suppressed}`);
  const id = Number(result.stored.id);
  for (const adjudication of options.adjudications ?? [])
    await db.query(`INSERT INTO adjudications (alert_id, outcome, created_at) VALUES ($1, $2, $3)`, [
      id,
      adjudication.outcome,
      adjudication.at.toISOString(),
    ]);
  return { id, sealedProbe };
}

export function testCipher(): DataCipher {
  return new DataCipher(randomBytes(32));
}
