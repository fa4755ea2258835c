import type { Database, Queryable } from '@vigil/core';
import type { MatchedAlert } from './matcher.service.js';

export interface NewAlert {
  deploymentId: string;
  cameraId: string;
  subjectId: string;
  referenceImageId: string;
  trackId: string;
  label: string;
  category: string;
  priority: string;
  score: number;
  threshold: number;
  capturedAt: Date;
  /** The probe crop, already sealed with the data cipher. */
  encryptedProbe: Uint8Array;
  /** Same message, same key: a redelivered embedding stores nothing new. */
  dedupeKey: string;
  /** How good the view behind the crop is (`viewQuality`); unknown when absent. */
  probeQuality?: number;
  /**
   * Seals the same crop bound to another alert's row. With it, a view of a track that already
   * alerted replaces that alert's crop when it is clearly better (see CROP_UPGRADE_RATIO).
   */
  sealProbeFor?: (dedupeKey: string) => Uint8Array;
}

export interface StoredAlert {
  id: string;
  createdAt: Date;
}

/** Why a match stored no alert: the message was stored before, the subject alerted on this camera within the cooldown, or on this track. */
export type SuppressionReason = 'cooldown' | 'duplicate' | 'same_track';

/**
 * A view replaces its track's crop only when its quality is at least this much higher (15%): views
 * of one person differ a little from frame to frame, and a crop that changes on every frame would
 * only distract the operator.
 */
export const CROP_UPGRADE_RATIO = 1.15;

export type StoreResult =
  | { stored: StoredAlert }
  /** `upgraded`: the track's alert whose crop this view replaced. */
  | { suppressed: SuppressionReason; upgraded?: StoredAlert };

interface TrackAlertRow {
  id: string | number;
  created_at: Date | string;
  dedupe_key: string;
  probe_quality: number | null;
}

/**
 * A later view of a track that already alerted: its crop replaces the alert's when the view is
 * clearly better and nobody has acted on the alert yet (an outcome recorded, or passed to an
 * officer: what someone acted on stays what they saw). The score kept is the higher one.
 */
async function replaceCropIfBetter(
  tx: Queryable,
  first: TrackAlertRow,
  alert: NewAlert,
): Promise<StoreResult> {
  const seal = alert.sealProbeFor;
  const quality = alert.probeQuality;
  const clearlyBetter =
    quality !== undefined &&
    (first.probe_quality === null || quality >= first.probe_quality * CROP_UPGRADE_RATIO);
  if (!seal || !clearlyBetter) return { suppressed: 'same_track' };
  // The row is locked before the check: an outcome being recorded now holds a key-share lock on it
  // (its foreign key), so it is waited for and then seen.
  await tx.query('SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE', [first.id]);
  const acted = await tx.query(
    `SELECT 1 WHERE EXISTS (SELECT 1 FROM adjudications WHERE alert_id = $1)
                 OR EXISTS (SELECT 1 FROM alert_dispatches WHERE alert_id = $1)`,
    [first.id],
  );
  if (acted.rows.length > 0) return { suppressed: 'same_track' };
  // Sealed bound to the track's row, as its first crop was: it opens only as that alert's crop.
  await tx.query(
    'UPDATE alerts SET encrypted_probe = $2, probe_quality = $3, score = greatest(score, $4) WHERE id = $1',
    [first.id, Buffer.from(seal(first.dedupe_key)), quality, alert.score],
  );
  return {
    suppressed: 'same_track',
    upgraded: { id: String(first.id), createdAt: new Date(first.created_at) },
  };
}

/**
 * A match stored as an alert, once (cooldown, redelivery, one per track), and the outbox of alerts
 * not yet published. The API reads and acts on alerts through its own AlertReviewRepository.
 */
export class MatchedAlertRepository {
  constructor(private readonly db: Database) {}

  /**
   * Stores an alert unless this very message was stored before, the same subject already alerted
   * on this track (one alert per person passing, however long they stay in view: a clearly better
   * view replaces that alert's crop unless an outcome was recorded or it was passed to an officer,
   * so what someone acted on stays what they saw), or on the same
   * camera within `cooldownSeconds` of this capture (a person who leaves and comes back, or whose
   * track the tracker split). One transaction, serialised per camera and subject by an advisory
   * lock, so two matchers racing on one face store one row.
   */
  async store(alert: NewAlert, cooldownSeconds: number): Promise<StoreResult> {
    return this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [
        `${alert.deploymentId}/${alert.cameraId}/${alert.subjectId}`,
      ]);
      const sameTrack = await tx.query<TrackAlertRow>(
        `SELECT id, created_at, dedupe_key, probe_quality FROM alerts
          WHERE deployment_id = $1 AND camera_id = $2 AND subject_id = $3 AND track_id = $4
          ORDER BY id LIMIT 1`,
        [alert.deploymentId, alert.cameraId, alert.subjectId, alert.trackId],
      );
      const first = sameTrack.rows[0];
      if (first?.dedupe_key === alert.dedupeKey) return { suppressed: 'duplicate' };
      if (first) return replaceCropIfBetter(tx, first, alert);
      const recent = await tx.query(
        `SELECT 1 FROM alerts
          WHERE deployment_id = $1 AND camera_id = $2 AND subject_id = $3
            AND captured_at > $4::timestamptz - make_interval(secs => $5)
            AND captured_at < $4::timestamptz + make_interval(secs => $5)
          LIMIT 1`,
        [
          alert.deploymentId,
          alert.cameraId,
          alert.subjectId,
          alert.capturedAt.toISOString(),
          cooldownSeconds,
        ],
      );
      if (recent.rows.length > 0) {
        const same = await tx.query(`SELECT 1 FROM alerts WHERE dedupe_key = $1`, [alert.dedupeKey]);
        return { suppressed: same.rows.length > 0 ? 'duplicate' : 'cooldown' };
      }
      const { rows } = await tx.query<{ id: string | number; created_at: Date | string }>(
        `INSERT INTO alerts (deployment_id, camera_id, subject_id, reference_image_id, track_id, label,
                             category, priority, score, threshold, captured_at, encrypted_probe, dedupe_key,
                             probe_quality)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING id, created_at`,
        [
          alert.deploymentId,
          alert.cameraId,
          alert.subjectId,
          alert.referenceImageId,
          alert.trackId,
          alert.label,
          alert.category,
          alert.priority,
          alert.score,
          alert.threshold,
          alert.capturedAt.toISOString(),
          Buffer.from(alert.encryptedProbe),
          alert.dedupeKey,
          alert.probeQuality ?? null,
        ],
      );
      const row = rows[0];
      if (!row) return { suppressed: 'duplicate' };
      return { stored: { id: String(row.id), createdAt: new Date(row.created_at) } };
    });
  }

  /**
   * Stores an alert's scene, sealed by `seal` bound to the row's dedupe key, unless the alert has
   * one already or is gone (deleted while the scene was composed). True when stored.
   */
  async storeScene(id: string, seal: (dedupeKey: string) => Uint8Array): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ dedupe_key: string }>(
        'SELECT dedupe_key FROM alerts WHERE id = $1 AND encrypted_scene IS NULL FOR UPDATE',
        [id],
      );
      const row = rows[0];
      if (!row) return false;
      await tx.query('UPDATE alerts SET encrypted_scene = $2 WHERE id = $1', [
        id,
        Buffer.from(seal(row.dedupe_key)),
      ]);
      return true;
    });
  }

  /** Records that the alert reached the durable stream (the outbox's acknowledgement). */
  async markPublished(id: string): Promise<void> {
    await this.db.query('UPDATE alerts SET published_at = now() WHERE id = $1 AND published_at IS NULL', [
      id,
    ]);
  }

  /**
   * Alerts stored at least `graceSeconds` ago and never marked published: a matcher stopped between
   * storing and publishing them. Oldest first, without their crops.
   */
  async unpublished(graceSeconds: number, limit = 100): Promise<UnpublishedAlert[]> {
    const { rows } = await this.db.query<{
      id: number | string;
      deployment_id: string;
      camera_id: string;
      subject_id: string;
      reference_image_id: string | null;
      track_id: string;
      label: string;
      category: string;
      priority: string;
      score: number;
      threshold: number;
      captured_at: Date;
      created_at: Date;
    }>(
      `SELECT id, deployment_id, camera_id, subject_id, reference_image_id, track_id, label, category, priority,
              score, threshold, captured_at, created_at
         FROM alerts
        WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1)
        ORDER BY id LIMIT $2`,
      [graceSeconds, limit],
    );
    return rows.map((row) => ({
      id: String(row.id),
      deploymentId: row.deployment_id,
      cameraId: row.camera_id,
      subjectId: row.subject_id,
      referenceImageId: row.reference_image_id ?? '',
      trackId: row.track_id,
      label: row.label,
      category: row.category,
      priority: row.priority,
      score: row.score,
      threshold: row.threshold,
      capturedAtMs: new Date(row.captured_at).getTime(),
      createdAtMs: new Date(row.created_at).getTime(),
    }));
  }
}

/** A stored alert as the outbox republishes it: the matched alert without its crop. */
export type UnpublishedAlert = Omit<MatchedAlert, 'probeJpeg'>;
