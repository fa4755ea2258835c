import type { Queryable } from '@vigil/core';

/** One thing that happened to a subject, as stored: an audit row, a deployment's list, or an alert. */
export interface SubjectHistoryRow {
  source: 'audit' | 'listed' | 'alert';
  at: string;
  /** Who acted (audit), or who recorded the alert's outcome. */
  actorName: string;
  /** The audited action; `listed` and `alert` for the other sources. */
  action: string;
  details: Record<string, unknown>;
  deployment: string | null;
  camera: string | null;
  /** The alert's latest outcome; null while none is recorded. */
  outcome: string | null;
}

interface DbHistoryRow {
  source: SubjectHistoryRow['source'];
  at: Date | string;
  actor_name: string | null;
  action: string;
  details: Record<string, unknown> | null;
  deployment: string | null;
  camera: string | null;
  outcome: string | null;
}

/** A subject's alerts counted by their latest outcome (`unresolved` while none is recorded). */
export type AlertOutcomeCounts = Record<string, number>;

/**
 * A subject's history from where it is kept: the audit rows targeting it (enrolment, edits,
 * approval, deletion, expiry), the deployments whose lists held it (`deployment_subject_log`) and
 * the alerts it raised with their latest outcome. Alerts past retention are gone from here.
 */
export class SubjectHistoryRepository {
  constructor(private readonly db: Queryable) {}

  /** Newest first, `limit` from `offset`. */
  async page(subjectId: string, limit: number, offset: number): Promise<SubjectHistoryRow[]> {
    const { rows } = await this.db.query<DbHistoryRow>(
      `SELECT * FROM (
         SELECT 'audit' AS source, a.at, a.actor_name, a.action, a.details,
                NULL::text AS deployment, NULL::text AS camera, NULL::text AS outcome, a.id AS sequence
           FROM audit_log a WHERE a.target_type = 'subject' AND a.target_id = $1::text
         UNION ALL
         SELECT 'listed', l.recorded_at, '', 'listed', '{}'::jsonb, d.name, NULL, NULL, 0
           FROM deployment_subject_log l JOIN deployments d ON d.id = l.deployment_id
          WHERE l.subject_id = $1::uuid
         UNION ALL
         SELECT 'alert', al.captured_at, coalesce(adj.username, ''), 'alert', '{}'::jsonb, d.name, c.name,
                adj.outcome, al.id
           FROM alerts al
           JOIN deployments d ON d.id = al.deployment_id
           LEFT JOIN cameras c ON c.id = al.camera_id
           LEFT JOIN LATERAL (
             SELECT j.outcome, u.username FROM adjudications j LEFT JOIN users u ON u.id = j.user_id
              WHERE j.alert_id = al.id ORDER BY j.id DESC LIMIT 1
           ) adj ON true
          WHERE al.subject_id = $1::uuid
       ) history
       ORDER BY at DESC, sequence DESC
       LIMIT $2 OFFSET $3`,
      [subjectId, limit, offset],
    );
    return rows.map((row) => ({
      source: row.source,
      at: new Date(row.at).toISOString(),
      actorName: row.actor_name ?? '',
      action: row.action,
      details: row.details ?? {},
      deployment: row.deployment,
      camera: row.camera,
      outcome: row.outcome,
    }));
  }

  /** Whether anything is recorded about the subject: a row of its own, or an audit row (once deleted). */
  async known(subjectId: string): Promise<boolean> {
    const { rows } = await this.db.query<{ known: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM subjects WHERE id = $1::uuid)
           OR EXISTS (SELECT 1 FROM audit_log WHERE target_type = 'subject' AND target_id = $1::text) AS known`,
      [subjectId],
    );
    return rows[0]?.known === true;
  }

  async alertOutcomes(subjectId: string): Promise<AlertOutcomeCounts> {
    const { rows } = await this.db.query<{ outcome: string; alerts: string | number }>(
      `SELECT coalesce(adj.outcome, 'unresolved') AS outcome, count(*) AS alerts
         FROM alerts al
         LEFT JOIN LATERAL (
           SELECT j.outcome FROM adjudications j WHERE j.alert_id = al.id ORDER BY j.id DESC LIMIT 1
         ) adj ON true
        WHERE al.subject_id = $1::uuid
        GROUP BY 1`,
      [subjectId],
    );
    return Object.fromEntries(rows.map((row) => [row.outcome, Number(row.alerts)]));
  }

  /** Watchlist names by id, for the ids an audit row names. */
  async watchlistNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const { rows } = await this.db.query<{ id: string; name: string }>(
      'SELECT id, name FROM watchlists WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.name]));
  }
}
