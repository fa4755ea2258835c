import type { Queryable } from '@vigil/core';

/** A deployment as statistics see it: no watchlist content, no subject. */
export interface DeploymentFacts {
  id: string;
  name: string;
  location: string;
  status: 'planned' | 'running' | 'stopped';
  model: string;
  threshold: number;
  startedAt: Date | null;
  stoppedAt: Date | null;
  cameras: number;
}

/** Counter sums of one deployment for one hour. */
export interface CounterHour {
  deploymentId: string;
  hour: Date;
  /** Frames ingest read; 0 in hours counted before frames read were (migration 064). */
  framesRead: number;
  frames: number;
  facesProcessed: number;
}

/** Frames of one deployment and hour read and never analysed, for one reason. */
export interface NotAnalysedHour {
  deploymentId: string;
  hour: Date;
  reason: string;
  frames: number;
}

/** Alerts of one deployment, hour and outcome (latest adjudication, or `unresolved`). */
export interface OutcomeHour {
  deploymentId: string;
  hour: Date;
  outcome: string;
  alerts: number;
}

/** Watchlist size of one deployment and category. */
export interface CategoryCount {
  deploymentId: string;
  category: string;
  subjects: number;
  source: 'snapshot' | 'current';
}

/** Half-open time window `[from, to)`; either end may be open. */
export interface TimeWindow {
  from?: Date | undefined;
  to?: Date | undefined;
}

function windowClause(column: string, window: TimeWindow, params: unknown[]): string {
  let sql = '';
  if (window.from) {
    params.push(window.from.toISOString());
    sql += ` AND ${column} >= $${params.length}::timestamptz`;
  }
  if (window.to) {
    params.push(window.to.toISOString());
    sql += ` AND ${column} < $${params.length}::timestamptz`;
  }
  return sql;
}

/**
 * Read-only queries behind the statistics: deployments, `deployment_counters`, alerts with their
 * latest adjudication, `alert_outcome_archive` and the watchlist size. Nothing here selects a
 * label, an image or an embedding.
 */
export class StatsRepository {
  constructor(private readonly db: Queryable) {}

  async deployment(id: string): Promise<DeploymentFacts | undefined> {
    return (await this.deployments({ ids: [id] }))[0];
  }

  /**
   * Deployments by id, or those that ran during `window` (started before its end, not stopped
   * before its start), oldest first.
   */
  async deployments(filter: { ids?: string[]; ranDuring?: TimeWindow }): Promise<DeploymentFacts[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (filter.ids) {
      params.push(filter.ids);
      where.push(`d.id = ANY($${params.length}::uuid[])`);
    }
    if (filter.ranDuring) {
      where.push('d.started_at IS NOT NULL');
      if (filter.ranDuring.to) {
        params.push(filter.ranDuring.to.toISOString());
        where.push(`d.started_at < $${params.length}::timestamptz`);
      }
      if (filter.ranDuring.from) {
        params.push(filter.ranDuring.from.toISOString());
        where.push(`(d.stopped_at IS NULL OR d.stopped_at >= $${params.length}::timestamptz)`);
      }
    }
    const { rows } = await this.db.query<{
      id: string;
      name: string;
      location: string;
      status: DeploymentFacts['status'];
      model: string;
      threshold: number;
      started_at: Date | string | null;
      stopped_at: Date | string | null;
      cameras: number | string;
    }>(
      `SELECT d.id, d.name, d.location, d.status, d.model, d.threshold, d.started_at, d.stopped_at,
              (SELECT count(*) FROM cameras c WHERE c.deployment_id = d.id) AS cameras
         FROM deployments d
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY d.started_at NULLS LAST, d.created_at, d.id`,
      params,
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      location: row.location,
      status: row.status,
      model: row.model,
      threshold: Number(row.threshold),
      startedAt: row.started_at ? new Date(row.started_at) : null,
      stoppedAt: row.stopped_at ? new Date(row.stopped_at) : null,
      cameras: Number(row.cameras),
    }));
  }

  /** Frames read, frames and faces processed per deployment and hour. */
  async counters(deploymentIds: string[], window: TimeWindow): Promise<CounterHour[]> {
    if (deploymentIds.length === 0) return [];
    const params: unknown[] = [deploymentIds];
    const { rows } = await this.db.query<{
      deployment_id: string;
      hour: Date | string;
      frames_read: number | string;
      frames: number | string;
      faces_processed: number | string;
    }>(
      `SELECT deployment_id, hour, sum(frames_read) AS frames_read, sum(frames) AS frames,
              sum(faces_processed) AS faces_processed
         FROM deployment_counters
        WHERE deployment_id = ANY($1::uuid[]) ${windowClause('hour', window, params)}
        GROUP BY deployment_id, hour`,
      params,
    );
    return rows.map((row) => ({
      deploymentId: row.deployment_id,
      hour: new Date(row.hour),
      framesRead: Number(row.frames_read),
      frames: Number(row.frames),
      facesProcessed: Number(row.faces_processed),
    }));
  }

  /** Frames read and never analysed per deployment, hour and reason. */
  async notAnalysed(deploymentIds: string[], window: TimeWindow): Promise<NotAnalysedHour[]> {
    if (deploymentIds.length === 0) return [];
    const params: unknown[] = [deploymentIds];
    const { rows } = await this.db.query<{
      deployment_id: string;
      hour: Date | string;
      reason: string;
      frames: number | string;
    }>(
      `SELECT deployment_id, hour, reason, sum(frames) AS frames
         FROM deployment_frames_not_analysed
        WHERE deployment_id = ANY($1::uuid[]) ${windowClause('hour', window, params)}
        GROUP BY deployment_id, hour, reason`,
      params,
    );
    return rows.map((row) => ({
      deploymentId: row.deployment_id,
      hour: new Date(row.hour),
      reason: row.reason,
      frames: Number(row.frames),
    }));
  }

  /**
   * Alerts per deployment, hour of capture and outcome: the latest adjudication of each alert
   * still stored, plus what retention archived of deleted ones.
   */
  async outcomes(deploymentIds: string[], window: TimeWindow): Promise<OutcomeHour[]> {
    if (deploymentIds.length === 0) return [];
    const params: unknown[] = [deploymentIds];
    const liveWindow = windowClause('a.captured_at', window, params);
    const archiveWindow = windowClause('o.hour', window, params);
    const { rows } = await this.db.query<{
      deployment_id: string;
      hour: Date | string;
      outcome: string;
      alerts: number | string;
    }>(
      `SELECT deployment_id, hour, outcome, sum(alerts) AS alerts FROM (
         SELECT a.deployment_id, date_trunc('hour', a.captured_at, 'UTC') AS hour,
                coalesce((SELECT j.outcome FROM adjudications j WHERE j.alert_id = a.id
                           ORDER BY j.created_at DESC, j.id DESC LIMIT 1), 'unresolved') AS outcome,
                1 AS alerts
           FROM alerts a
          WHERE a.deployment_id = ANY($1::uuid[]) ${liveWindow}
         UNION ALL
         SELECT o.deployment_id, o.hour, o.outcome, o.alerts
           FROM alert_outcome_archive o
          WHERE o.deployment_id = ANY($1::uuid[]) ${archiveWindow}
       ) AS all_alerts
       GROUP BY deployment_id, hour, outcome`,
      params,
    );
    return rows.map((row) => ({
      deploymentId: row.deployment_id,
      hour: new Date(row.hour),
      outcome: row.outcome,
      alerts: Number(row.alerts),
    }));
  }

  /**
   * Watchlist size by category: the list frozen at start (`deployment_subject_log`) for a
   * deployment that ran, else the subjects now on its watchlists and not expired.
   */
  async watchlistSizes(deploymentIds: string[], now: Date): Promise<CategoryCount[]> {
    if (deploymentIds.length === 0) return [];
    const { rows } = await this.db.query<{
      deployment_id: string;
      category: string;
      subjects: number | string;
      source: 'snapshot' | 'current';
    }>(
      `SELECT deployment_id, category, count(*) AS subjects, 'snapshot' AS source
         FROM deployment_subject_log
        WHERE deployment_id = ANY($1::uuid[])
        GROUP BY deployment_id, category
       UNION ALL
       SELECT dw.deployment_id, s.category, count(DISTINCT s.id) AS subjects, 'current' AS source
         FROM deployment_watchlists dw
         JOIN subjects s ON s.watchlist_id = dw.watchlist_id
        WHERE dw.deployment_id = ANY($1::uuid[])
          AND (s.expires_at IS NULL OR s.expires_at > $2::timestamptz)
          AND NOT EXISTS (SELECT 1 FROM deployment_subject_log l WHERE l.deployment_id = dw.deployment_id)
        GROUP BY dw.deployment_id, s.category`,
      [deploymentIds, now.toISOString()],
    );
    return rows.map((row) => ({
      deploymentId: row.deployment_id,
      category: row.category,
      subjects: Number(row.subjects),
      source: row.source,
    }));
  }
}
