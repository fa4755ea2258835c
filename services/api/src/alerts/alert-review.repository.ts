import type { SubjectPriority } from '@vigil/contract';
import type { Database, Queryable } from '@vigil/core';

/** An alert row as the API reads it (the probe still sealed). */
export interface AlertRecord {
  id: string;
  deploymentId: string;
  cameraId: string;
  cameraName: string | null;
  subjectId: string;
  referenceImageId: string | null;
  label: string;
  category: string;
  priority: SubjectPriority;
  score: number;
  threshold: number;
  capturedAt: string;
  createdAt: string;
  /** The sealed probe crop; only loaded when asked for. */
  encryptedProbe: Buffer | null;
  /** Unique per alert; the crop is sealed bound to it. */
  dedupeKey: string;
}

export interface AdjudicationRecord {
  id: string;
  alertId: string;
  deploymentId: string;
  userId: string | null;
  username: string;
  outcome: string;
  note: string;
  createdAt: string;
}

export interface DispatchRecord {
  id: string;
  alertId: string;
  deploymentId: string;
  officerId: string;
  officerName: string;
  dispatchedBy: string | null;
  dispatchedByName: string;
  note: string;
  createdAt: string;
  acknowledgedAt: string | null;
  enRouteAt: string | null;
}

/** What an officer is shown about an alert passed to them. */
export interface DispatchedAlertRecord extends DispatchRecord {
  alert: AlertRecord;
  description: string;
  deploymentName: string;
  location: string;
  outcome: AdjudicationRecord | null;
}

interface AlertRow {
  id: string;
  deployment_id: string;
  camera_id: string;
  camera_name: string | null;
  subject_id: string;
  reference_image_id: string | null;
  label: string;
  category: string;
  priority: SubjectPriority;
  score: number;
  threshold: number;
  captured_at: Date | string;
  created_at: Date | string;
  encrypted_probe?: Uint8Array | null;
  dedupe_key: string;
}

interface AdjudicationRow {
  id: string;
  alert_id: string;
  deployment_id: string;
  user_id: string | null;
  username: string | null;
  outcome: string;
  note: string;
  created_at: Date | string;
}

interface DispatchRow {
  id: string;
  alert_id: string;
  deployment_id: string;
  officer_id: string;
  officer_name: string | null;
  dispatched_by: string | null;
  dispatched_by_name: string | null;
  note: string;
  created_at: Date | string;
  acknowledged_at: Date | string | null;
  en_route_at: Date | string | null;
}

const iso = (value: Date | string): string => new Date(value).toISOString();
const isoOrNull = (value: Date | string | null): string | null => (value === null ? null : iso(value));

/** A dispatch row `x` with its officer `o` and the operator `d` who passed it, as `DispatchRow`. */
const DISPATCH_COLUMNS = `x.id::text AS id, x.alert_id::text AS alert_id, a.deployment_id, x.officer_id,
  o.username AS officer_name, x.dispatched_by, d.username AS dispatched_by_name, x.note, x.created_at,
  x.acknowledged_at, x.en_route_at`;
const DISPATCH_FROM = `alert_dispatches x JOIN alerts a ON a.id = x.alert_id
  LEFT JOIN users o ON o.id = x.officer_id LEFT JOIN users d ON d.id = x.dispatched_by`;

function alertColumns(withProbe: boolean): string {
  return `a.id::text AS id, a.deployment_id, a.camera_id, c.name AS camera_name, a.subject_id,
    a.reference_image_id, a.label, a.category, a.priority, a.score, a.threshold, a.captured_at, a.created_at,
    a.dedupe_key
    ${withProbe ? ', a.encrypted_probe' : ''}`;
}

function toAlert(row: AlertRow): AlertRecord {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    cameraId: row.camera_id,
    cameraName: row.camera_name,
    subjectId: row.subject_id,
    referenceImageId: row.reference_image_id,
    label: row.label,
    category: row.category,
    priority: row.priority,
    score: Number(row.score),
    threshold: Number(row.threshold),
    capturedAt: iso(row.captured_at),
    createdAt: iso(row.created_at),
    encryptedProbe: row.encrypted_probe ? Buffer.from(row.encrypted_probe) : null,
    dedupeKey: row.dedupe_key,
  };
}

function toAdjudication(row: AdjudicationRow): AdjudicationRecord {
  return {
    id: row.id,
    alertId: row.alert_id,
    deploymentId: row.deployment_id,
    userId: row.user_id,
    username: row.username ?? '',
    outcome: row.outcome,
    note: row.note,
    createdAt: iso(row.created_at),
  };
}

function toDispatch(row: DispatchRow): DispatchRecord {
  return {
    id: row.id,
    alertId: row.alert_id,
    deploymentId: row.deployment_id,
    officerId: row.officer_id,
    officerName: row.officer_name ?? '',
    dispatchedBy: row.dispatched_by,
    dispatchedByName: row.dispatched_by_name ?? '',
    note: row.note,
    createdAt: iso(row.created_at),
    acknowledgedAt: isoOrNull(row.acknowledged_at),
    enRouteAt: isoOrNull(row.en_route_at),
  };
}

/**
 * Alerts as operators and officers review them: read (newest first, since a reconnect), their
 * adjudications and dispatches. The matcher writes alerts (@vigil/matcher's MatchedAlertRepository).
 */
export class AlertReviewRepository {
  constructor(private readonly db: Database) {}

  async deploymentExists(deploymentId: string): Promise<boolean> {
    const result = await this.db.query('SELECT 1 FROM deployments WHERE id = $1', [deploymentId]);
    return result.rows.length > 0;
  }

  /** True when the camera is one of the deployment's. */
  async cameraOf(deploymentId: string, cameraId: string): Promise<boolean> {
    const result = await this.db.query('SELECT 1 FROM cameras WHERE id = $1 AND deployment_id = $2', [
      cameraId,
      deploymentId,
    ]);
    return result.rows.length > 0;
  }

  /** True when the user is assigned to the deployment (deployment_operators). */
  async isAssigned(userId: string, deploymentId: string): Promise<boolean> {
    const result = await this.db.query(
      'SELECT 1 FROM deployment_operators WHERE deployment_id = $1 AND user_id = $2',
      [deploymentId, userId],
    );
    return result.rows.length > 0;
  }

  /** Users assigned to a deployment (the operators and officers an alert can be passed to). */
  async assignedUsers(deploymentId: string): Promise<{ id: string; username: string; role: string }[]> {
    const result = await this.db.query<{ id: string; username: string; role: string }>(
      `SELECT u.id, u.username, u.role FROM deployment_operators o JOIN users u ON u.id = o.user_id
       WHERE o.deployment_id = $1 AND NOT u.disabled ORDER BY u.username`,
      [deploymentId],
    );
    return result.rows;
  }

  async find(alertId: string, options: { withProbe?: boolean } = {}): Promise<AlertRecord | undefined> {
    const result = await this.db.query<AlertRow>(
      `SELECT ${alertColumns(options.withProbe ?? false)} FROM alerts a
       LEFT JOIN cameras c ON c.id = a.camera_id WHERE a.id = $1::bigint`,
      [alertId],
    );
    const row = result.rows[0];
    return row ? toAlert(row) : undefined;
  }

  /** The sealed scene kept with an alert, or undefined when none was kept. */
  async sceneOf(alertId: string): Promise<Buffer | undefined> {
    const { rows } = await this.db.query<{ encrypted_scene: Uint8Array | null }>(
      'SELECT encrypted_scene FROM alerts WHERE id = $1::bigint',
      [alertId],
    );
    const sealed = rows[0]?.encrypted_scene;
    return sealed ? Buffer.from(sealed) : undefined;
  }

  /** A page of a deployment's alerts, newest first, strictly older than `before` when given. */
  async listNewestFirst(
    deploymentId: string,
    options: { before?: string; limit: number; withProbe: boolean },
  ): Promise<AlertRecord[]> {
    const params: unknown[] = [deploymentId, options.limit];
    let older = '';
    if (options.before !== undefined) {
      params.push(options.before);
      older = 'AND a.id < $3::bigint';
    }
    const result = await this.db.query<AlertRow>(
      `SELECT ${alertColumns(options.withProbe)} FROM alerts a LEFT JOIN cameras c ON c.id = a.camera_id
       WHERE a.deployment_id = $1 ${older} ORDER BY a.id DESC LIMIT $2`,
      params,
    );
    return result.rows.map(toAlert);
  }

  /** A deployment's alerts after `sinceId`, oldest first: what a reconnecting client missed. */
  async listSince(deploymentId: string, sinceId: string, limit: number): Promise<AlertRecord[]> {
    const result = await this.db.query<AlertRow>(
      `SELECT ${alertColumns(true)} FROM alerts a LEFT JOIN cameras c ON c.id = a.camera_id
       WHERE a.deployment_id = $1 AND a.id > $2::bigint ORDER BY a.id ASC LIMIT $3`,
      [deploymentId, sinceId, limit],
    );
    return result.rows.map(toAlert);
  }

  async count(deploymentId: string): Promise<number> {
    const result = await this.db.query<{ n: string }>(
      'SELECT count(*)::text AS n FROM alerts WHERE deployment_id = $1',
      [deploymentId],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  /** Every adjudication of the given alerts, oldest first. */
  async adjudicationsOf(alertIds: string[]): Promise<AdjudicationRecord[]> {
    if (alertIds.length === 0) return [];
    const result = await this.db.query<AdjudicationRow>(
      `SELECT j.id::text AS id, j.alert_id::text AS alert_id, a.deployment_id, j.user_id, u.username,
              j.outcome, j.note, j.created_at
       FROM adjudications j JOIN alerts a ON a.id = j.alert_id LEFT JOIN users u ON u.id = j.user_id
       WHERE j.alert_id = ANY($1::bigint[]) ORDER BY j.id ASC`,
      [alertIds],
    );
    return result.rows.map(toAdjudication);
  }

  async insertAdjudication(
    input: { alertId: string; userId: string; outcome: string; note: string },
    tx: Queryable,
  ): Promise<AdjudicationRecord> {
    const result = await tx.query<AdjudicationRow>(
      `WITH inserted AS (
         INSERT INTO adjudications (alert_id, user_id, outcome, note) VALUES ($1::bigint, $2, $3, $4)
         RETURNING id, alert_id, user_id, outcome, note, created_at)
       SELECT i.id::text AS id, i.alert_id::text AS alert_id, a.deployment_id, i.user_id, u.username,
              i.outcome, i.note, i.created_at
       FROM inserted i JOIN alerts a ON a.id = i.alert_id LEFT JOIN users u ON u.id = i.user_id`,
      [input.alertId, input.userId, input.outcome, input.note],
    );
    return toAdjudication(result.rows[0] as AdjudicationRow);
  }

  async insertDispatch(
    input: { alertId: string; officerId: string; dispatchedBy: string; note: string },
    tx: Queryable,
  ): Promise<DispatchRecord> {
    const result = await tx.query<{ id: string }>(
      `INSERT INTO alert_dispatches (alert_id, officer_id, dispatched_by, note) VALUES ($1::bigint, $2, $3, $4)
       RETURNING id::text AS id`,
      [input.alertId, input.officerId, input.dispatchedBy, input.note],
    );
    return (await this.findDispatch(result.rows[0]!.id, tx))!;
  }

  /** One dispatch; locked until the transaction ends when `forUpdate`, so its progress changes one at a time. */
  async findDispatch(
    dispatchId: string,
    db: Queryable = this.db,
    forUpdate = false,
  ): Promise<DispatchRecord | undefined> {
    const result = await db.query<DispatchRow>(
      `SELECT ${DISPATCH_COLUMNS} FROM ${DISPATCH_FROM} WHERE x.id = $1::bigint${forUpdate ? ' FOR UPDATE OF x' : ''}`,
      [dispatchId],
    );
    const row = result.rows[0];
    return row ? toDispatch(row) : undefined;
  }

  /** Stamps the dispatch acknowledged or en route now. */
  async markDispatch(dispatchId: string, step: 'acknowledged' | 'en_route', tx: Queryable): Promise<void> {
    const column = step === 'acknowledged' ? 'acknowledged_at' : 'en_route_at';
    await tx.query(`UPDATE alert_dispatches SET ${column} = now() WHERE id = $1::bigint`, [dispatchId]);
  }

  /** Every dispatch of these alerts, oldest first: who each was passed to and how far they have got. */
  async dispatchesOf(alertIds: string[]): Promise<DispatchRecord[]> {
    if (alertIds.length === 0) return [];
    const result = await this.db.query<DispatchRow>(
      `SELECT ${DISPATCH_COLUMNS} FROM ${DISPATCH_FROM} WHERE x.alert_id = ANY($1::bigint[]) ORDER BY x.id`,
      [alertIds],
    );
    return result.rows.map(toDispatch);
  }

  /** Alerts passed to one officer, newest first, with what they need on the ground. */
  async wasDispatchedTo(alertId: string, officerId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM alert_dispatches WHERE alert_id = $1 AND officer_id = $2 LIMIT 1',
      [alertId, officerId],
    );
    return rows.length > 0;
  }

  async dispatchedTo(officerId: string, limit: number, withProbe = false): Promise<DispatchedAlertRecord[]> {
    const result = await this.db.query<
      DispatchRow &
        AlertRow & {
          alert_id_text: string;
          dispatch_id: string;
          dispatch_note: string;
          dispatch_created_at: Date | string;
          description: string | null;
          deployment_name: string;
          location: string;
        }
    >(
      `SELECT ${alertColumns(withProbe)}, x.id::text AS dispatch_id, x.alert_id::text AS alert_id_text,
              x.officer_id, o.username AS officer_name, x.dispatched_by, d.username AS dispatched_by_name,
              x.note AS dispatch_note, x.created_at AS dispatch_created_at, x.acknowledged_at,
              x.en_route_at, s.notes AS description,
              dep.name AS deployment_name, dep.location
       FROM alert_dispatches x JOIN alerts a ON a.id = x.alert_id
       JOIN deployments dep ON dep.id = a.deployment_id
       LEFT JOIN cameras c ON c.id = a.camera_id LEFT JOIN subjects s ON s.id = a.subject_id
       LEFT JOIN users o ON o.id = x.officer_id LEFT JOIN users d ON d.id = x.dispatched_by
       WHERE x.officer_id = $1 ORDER BY x.id DESC LIMIT $2`,
      [officerId, limit],
    );
    const alertIds = result.rows.map((row) => row.id);
    const outcomes = new Map<string, AdjudicationRecord>();
    for (const adjudication of await this.adjudicationsOf(alertIds))
      outcomes.set(adjudication.alertId, adjudication);
    return result.rows.map((row) => ({
      ...toDispatch({
        id: row.dispatch_id,
        alert_id: row.alert_id_text,
        deployment_id: row.deployment_id,
        officer_id: row.officer_id,
        officer_name: row.officer_name,
        dispatched_by: row.dispatched_by,
        dispatched_by_name: row.dispatched_by_name,
        note: row.dispatch_note,
        created_at: row.dispatch_created_at,
        acknowledged_at: row.acknowledged_at,
        en_route_at: row.en_route_at,
      }),
      alert: toAlert(row),
      description: row.description ?? '',
      deploymentName: row.deployment_name,
      location: row.location,
      outcome: outcomes.get(row.id) ?? null,
    }));
  }
}
