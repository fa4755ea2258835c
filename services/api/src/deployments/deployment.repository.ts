import { randomBytes } from 'node:crypto';
import type { AuthorisationStatus } from '@vigil/contract';
import {
  fromVectorText,
  type Queryable,
  snapshotTemplate,
  type TemplateKeys,
  toVectorParam,
} from '@vigil/core';
import type { WatchlistComposition } from './authorisation.repository.js';

export type DeploymentStatus = 'planned' | 'running' | 'stopped';

/** Store rows copied into a snapshot per round trip: bounds the vectors held in memory at once. */
const FREEZE_PAGE = 500;

interface FreezeRow {
  subject_id: string;
  reference_image_id: string;
  label: string;
  category: string;
  priority: string;
  model: string;
  embedding: string;
  template_key_id: string | null;
}
export type StopReason = 'manual' | 'window_ended' | 'authorisation_refused' | 'authorisation_lapsed';

/** The deployment's newest request for authorisation, as the deployment shows it. */
export interface AuthorisationSummary {
  id: string;
  status: AuthorisationStatus;
  urgent: boolean;
  requestedBy: string | null;
  requestedAt: string;
  decisionDueAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  rationale: string;
}

export interface Camera {
  id: string;
  deploymentId: string;
  name: string;
  url: string;
  fps: number;
  realtime: boolean;
  loop: boolean;
  createdAt: string;
}

export interface Deployment {
  id: string;
  name: string;
  location: string;
  purpose: string;
  legalBasis: string;
  threshold: number;
  model: string;
  status: DeploymentStatus;
  stopReason: StopReason | null;
  authorisation: AuthorisationSummary | null;
  /** The snapshot's make-up, recorded at start; no names. */
  watchlistComposition: WatchlistComposition | null;
  /** When a refused or lapsed authorisation deleted the snapshot, alerts and crops. */
  purgedAt: string | null;
  startsAt: string | null;
  endsAt: string | null;
  startedAt: string | null;
  stoppedAt: string | null;
  snapshotDestroyAfter: string | null;
  snapshotDestroyedAt: string | null;
  createdBy: string | null;
  createdAt: string;
  watchlistIds: string[];
  operatorIds: string[];
}

const iso = (value: Date | string | null): string | null => (value ? new Date(value).toISOString() : null);

interface DeploymentRow {
  id: string;
  name: string;
  location: string;
  purpose: string;
  legal_basis: string;
  threshold: number | string;
  model: string;
  status: DeploymentStatus;
  stop_reason: StopReason | null;
  watchlist_composition: WatchlistComposition | string | null;
  purged_at: Date | string | null;
  authorisation: Record<string, unknown> | string | null;
  starts_at: Date | string | null;
  ends_at: Date | string | null;
  started_at: Date | string | null;
  stopped_at: Date | string | null;
  snapshot_destroy_after: Date | string | null;
  snapshot_destroyed_at: Date | string | null;
  created_by: string | null;
  created_at: Date | string;
  watchlist_ids: string[] | null;
  operator_ids: string[] | null;
}

const json = <T>(value: T | string | null): T | null =>
  typeof value === 'string' ? (JSON.parse(value) as T) : value;

function authorisationFromJson(value: Record<string, unknown> | string | null): AuthorisationSummary | null {
  const row = json(value);
  if (!row) return null;
  const date = (key: string) => (row[key] ? new Date(row[key] as string).toISOString() : null);
  return {
    id: row.id as string,
    status: row.status as AuthorisationStatus,
    urgent: row.urgent as boolean,
    requestedBy: (row.requested_by as string | null) ?? null,
    requestedAt: date('requested_at')!,
    decisionDueAt: date('decision_due_at'),
    decidedBy: (row.decided_by as string | null) ?? null,
    decidedAt: date('decided_at'),
    rationale: row.rationale as string,
  };
}

function fromRow(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    name: row.name,
    location: row.location,
    purpose: row.purpose,
    legalBasis: row.legal_basis,
    stopReason: row.stop_reason,
    authorisation: authorisationFromJson(row.authorisation),
    watchlistComposition: json(row.watchlist_composition),
    purgedAt: iso(row.purged_at),
    // real is single precision: 0.6 reads back as 0.6000000238.
    threshold: Math.round(Number(row.threshold) * 1e6) / 1e6,
    model: row.model,
    status: row.status,
    startsAt: iso(row.starts_at),
    endsAt: iso(row.ends_at),
    startedAt: iso(row.started_at),
    stoppedAt: iso(row.stopped_at),
    snapshotDestroyAfter: iso(row.snapshot_destroy_after),
    snapshotDestroyedAt: iso(row.snapshot_destroyed_at),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    watchlistIds: [...(row.watchlist_ids ?? [])].sort(),
    operatorIds: [...(row.operator_ids ?? [])].sort(),
  };
}

interface CameraRow {
  id: string;
  deployment_id: string;
  name: string;
  url: string;
  fps: number | string;
  realtime: boolean;
  loop: boolean;
  created_at: Date | string;
}

function cameraFromRow(row: CameraRow): Camera {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    name: row.name,
    url: row.url,
    fps: Math.round(Number(row.fps) * 1000) / 1000,
    realtime: row.realtime,
    loop: row.loop,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

const SELECT = `SELECT d.*,
    ARRAY(SELECT dw.watchlist_id::text FROM deployment_watchlists dw WHERE dw.deployment_id = d.id) AS watchlist_ids,
    ARRAY(SELECT o.user_id::text FROM deployment_operators o WHERE o.deployment_id = d.id) AS operator_ids,
    (SELECT row_to_json(a) FROM (
       SELECT x.id, x.status, x.urgent, x.requested_by, x.requested_at, x.decision_due_at, x.decided_by,
              x.decided_at, x.rationale
         FROM deployment_authorisations x WHERE x.deployment_id = d.id
        ORDER BY x.requested_at DESC, x.id DESC LIMIT 1) a) AS authorisation
  FROM deployments d`;

/** `deployments`, `deployment_watchlists`, `deployment_operators`, `cameras`, and the snapshot freeze. */
export class DeploymentRepository {
  constructor(private readonly db: Queryable) {}

  async create(
    input: {
      name: string;
      location: string;
      purpose: string;
      legalBasis: string;
      threshold: number;
      model: string;
      startsAt: string | null;
      endsAt: string | null;
      createdBy: string;
    },
    tx = this.db,
  ): Promise<string> {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO deployments (name, location, threshold, model, starts_at, ends_at, created_by, purpose, legal_basis)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        input.name,
        input.location,
        input.threshold,
        input.model,
        input.startsAt,
        input.endsAt,
        input.createdBy,
        input.purpose,
        input.legalBasis,
      ],
    );
    return rows[0]!.id;
  }

  async find(id: string, tx = this.db, options: { lock?: boolean } = {}): Promise<Deployment | undefined> {
    if (options.lock) await tx.query('SELECT id FROM deployments WHERE id = $1 FOR UPDATE', [id]);
    const { rows } = await tx.query<DeploymentRow>(`${SELECT} WHERE d.id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** All deployments, or those `operatorId` is assigned to. */
  async list(filter: { operatorId?: string } = {}): Promise<Deployment[]> {
    const { rows } = filter.operatorId
      ? await this.db.query<DeploymentRow>(
          `${SELECT} WHERE EXISTS (SELECT 1 FROM deployment_operators o WHERE o.deployment_id = d.id AND o.user_id = $1)
           ORDER BY d.created_at DESC, d.id`,
          [filter.operatorId],
        )
      : await this.db.query<DeploymentRow>(`${SELECT} ORDER BY d.created_at DESC, d.id`);
    return rows.map(fromRow);
  }

  async update(
    id: string,
    changes: {
      name?: string;
      location?: string;
      purpose?: string;
      legalBasis?: string;
      threshold?: number;
      startsAt?: string | null;
      endsAt?: string | null;
    },
    tx = this.db,
  ): Promise<void> {
    await tx.query(
      `UPDATE deployments SET name = COALESCE($2, name), location = COALESCE($3, location),
         threshold = COALESCE($4, threshold),
         starts_at = CASE WHEN $5::boolean THEN $6::timestamptz ELSE starts_at END,
         ends_at = CASE WHEN $7::boolean THEN $8::timestamptz ELSE ends_at END,
         purpose = COALESCE($9, purpose), legal_basis = COALESCE($10, legal_basis)
       WHERE id = $1`,
      [
        id,
        changes.name ?? null,
        changes.location ?? null,
        changes.threshold ?? null,
        changes.startsAt !== undefined,
        changes.startsAt ?? null,
        changes.endsAt !== undefined,
        changes.endsAt ?? null,
        changes.purpose ?? null,
        changes.legalBasis ?? null,
      ],
    );
  }

  async setWatchlists(id: string, watchlistIds: string[], tx = this.db): Promise<void> {
    await tx.query('DELETE FROM deployment_watchlists WHERE deployment_id = $1', [id]);
    if (watchlistIds.length > 0)
      await tx.query(
        `INSERT INTO deployment_watchlists (deployment_id, watchlist_id)
         SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
        [id, watchlistIds],
      );
  }

  /** The ids among `ids` that name existing watchlists. */
  async existingWatchlists(ids: string[], tx = this.db): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM watchlists WHERE id = ANY($1::uuid[])', [
      ids,
    ]);
    return new Set(rows.map((row) => row.id));
  }

  async usersByIds(ids: string[], tx = this.db): Promise<{ id: string; role: string; username: string }[]> {
    if (ids.length === 0) return [];
    const { rows } = await tx.query<{ id: string; role: string; username: string }>(
      'SELECT id, role, username FROM users WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return rows;
  }

  async addOperators(id: string, userIds: string[], tx = this.db): Promise<void> {
    await tx.query(
      `INSERT INTO deployment_operators (deployment_id, user_id)
       SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
      [id, userIds],
    );
  }

  async removeOperator(id: string, userId: string, tx = this.db): Promise<boolean> {
    const { rowCount } = await tx.query(
      'DELETE FROM deployment_operators WHERE deployment_id = $1 AND user_id = $2',
      [id, userId],
    );
    return rowCount > 0;
  }

  async isOperator(id: string, userId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM deployment_operators WHERE deployment_id = $1 AND user_id = $2',
      [id, userId],
    );
    return rows.length > 0;
  }

  async addCamera(
    camera: {
      deploymentId: string;
      name: string;
      url: string;
      fps: number;
      realtime: boolean;
      loop: boolean;
    },
    tx = this.db,
  ): Promise<Camera> {
    const { rows } = await tx.query<CameraRow>(
      `INSERT INTO cameras (deployment_id, name, url, fps, realtime, loop) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [camera.deploymentId, camera.name, camera.url, camera.fps, camera.realtime, camera.loop],
    );
    return cameraFromRow(rows[0]!);
  }

  async cameras(deploymentId: string): Promise<Camera[]> {
    const { rows } = await this.db.query<CameraRow>(
      'SELECT * FROM cameras WHERE deployment_id = $1 ORDER BY created_at, id',
      [deploymentId],
    );
    return rows.map(cameraFromRow);
  }

  async findCamera(id: string): Promise<Camera | undefined> {
    const { rows } = await this.db.query<CameraRow>('SELECT * FROM cameras WHERE id = $1', [id]);
    return rows[0] ? cameraFromRow(rows[0]) : undefined;
  }

  async deleteCamera(id: string, tx = this.db): Promise<boolean> {
    const { rowCount } = await tx.query('DELETE FROM cameras WHERE id = $1', [id]);
    return rowCount > 0;
  }

  /**
   * Freezes the snapshot: the current embeddings (of `model`) of `subjectIds` among the non-expired
   * subjects of the deployment's watchlists, and the non-biometric log of who was on the list. With
   * `templates`, the deployment gets a random salt and its entries the salt's rotation (see core's
   * snapshotTemplate): unlinkable to the store and to other deployments, and gone with the salt.
   */
  async freezeSnapshot(
    id: string,
    model: string,
    subjectIds: string[],
    tx = this.db,
    templates?: TemplateKeys,
  ): Promise<{ entries: number; subjects: number }> {
    const salt = templates ? randomBytes(32) : null;
    await tx.query('UPDATE deployments SET template_salt = $2, template_key_id = $3 WHERE id = $1', [
      id,
      salt,
      templates?.current.keyId ?? null,
    ]);
    let entries = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await tx.query<FreezeRow>(
        `SELECT s.id AS subject_id, e.reference_image_id, s.label, s.category, s.priority, e.model,
                e.embedding::text AS embedding, e.template_key_id
           FROM deployment_watchlists dw
           JOIN subjects s ON s.watchlist_id = dw.watchlist_id
           JOIN embeddings e ON e.subject_id = s.id
          WHERE dw.deployment_id = $1 AND e.model = $2 AND (s.expires_at IS NULL OR s.expires_at > now())
            AND s.id = ANY($3::uuid[]) AND e.reference_image_id > $4
          ORDER BY e.reference_image_id LIMIT $5`,
        [id, model, subjectIds, after, FREEZE_PAGE],
      );
      if (rows.length === 0) break;
      const vectors = rows.map((row) =>
        toVectorParam(
          snapshotTemplate(templates, salt, {
            vector: Float32Array.from(fromVectorText(row.embedding)),
            keyId: row.template_key_id,
          }),
        ),
      );
      const inserted = await tx.query(
        `INSERT INTO snapshot_entries (deployment_id, subject_id, reference_image_id, label, category, priority, model, embedding)
         SELECT $1, u.subject_id, u.reference_image_id, u.label, u.category, u.priority, u.model, u.embedding::vector
           FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
             AS u(subject_id, reference_image_id, label, category, priority, model, embedding)`,
        [
          id,
          rows.map((row) => row.subject_id),
          rows.map((row) => row.reference_image_id),
          rows.map((row) => row.label),
          rows.map((row) => row.category),
          rows.map((row) => row.priority),
          rows.map((row) => row.model),
          vectors,
        ],
      );
      entries += inserted.rowCount;
      after = rows[rows.length - 1]!.reference_image_id;
    }
    const subjects = await tx.query(
      `INSERT INTO deployment_subject_log (deployment_id, subject_id, watchlist_id, label, category, priority)
       SELECT DISTINCT $1::uuid, s.id, s.watchlist_id, s.label, s.category, s.priority
         FROM snapshot_entries se JOIN subjects s ON s.id = se.subject_id
        WHERE se.deployment_id = $1
       ON CONFLICT DO NOTHING`,
      [id],
    );
    return { entries, subjects: subjects.rowCount };
  }

  async markStarted(id: string, composition: WatchlistComposition, tx = this.db): Promise<void> {
    await tx.query(
      "UPDATE deployments SET status = 'running', started_at = now(), watchlist_composition = $2::jsonb WHERE id = $1",
      [id, JSON.stringify(composition)],
    );
  }

  async markStopped(id: string, graceHours: number, reason: StopReason, tx = this.db): Promise<void> {
    await tx.query(
      `UPDATE deployments SET status = 'stopped', stopped_at = now(), stop_reason = $3,
         snapshot_destroy_after = now() + make_interval(secs => $2::double precision)
       WHERE id = $1`,
      [id, graceHours * 3600, reason],
    );
  }

  async snapshotSize(id: string): Promise<{ entries: number; subjects: number }> {
    const { rows } = await this.db.query<{ entries: string | number; subjects: string | number }>(
      `SELECT count(*) AS entries, count(DISTINCT subject_id) AS subjects FROM snapshot_entries WHERE deployment_id = $1`,
      [id],
    );
    return { entries: Number(rows[0]?.entries ?? 0), subjects: Number(rows[0]?.subjects ?? 0) };
  }

  /** Faces processed and alerts raised, from the counters and alerts tables. */
  async activity(id: string): Promise<{ facesProcessed: number; frames: number; alerts: number }> {
    const { rows } = await this.db.query<{
      faces: string | number;
      frames: string | number;
      alerts: string | number;
    }>(
      `SELECT COALESCE((SELECT sum(faces_processed) FROM deployment_counters WHERE deployment_id = $1), 0) AS faces,
              COALESCE((SELECT sum(frames) FROM deployment_counters WHERE deployment_id = $1), 0) AS frames,
              (SELECT count(*) FROM alerts WHERE deployment_id = $1) AS alerts`,
      [id],
    );
    return {
      facesProcessed: Number(rows[0]?.faces ?? 0),
      frames: Number(rows[0]?.frames ?? 0),
      alerts: Number(rows[0]?.alerts ?? 0),
    };
  }
}
