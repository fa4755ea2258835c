import type { Queryable } from '@vigil/core';

/** One event of a deployment's use (see migration 061): never an image or an embedding. */
export interface UseLogEntry {
  id: string;
  at: string;
  event: string;
  alertId: string | null;
  details: Record<string, unknown>;
}

interface UseLogRow {
  id: string;
  at: Date | string;
  event: string;
  alert_id: string | null;
  details: Record<string, unknown> | string;
}

const toEntry = (row: UseLogRow): UseLogEntry => ({
  id: row.id,
  at: new Date(row.at).toISOString(),
  event: row.event,
  alertId: row.alert_id,
  details:
    typeof row.details === 'string' ? (JSON.parse(row.details) as Record<string, unknown>) : row.details,
});

/** `deployment_use_log`, written by the triggers of migration 061; read and aged out here. */
export class UseLogRepository {
  constructor(private readonly db: Queryable) {}

  async deploymentExists(deploymentId: string): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM deployments WHERE id = $1', [deploymentId]);
    return rows.length > 0;
  }

  /** A deployment's log in order, within `[from, to)` when given. */
  async entries(deploymentId: string, window: { from?: Date; to?: Date } = {}): Promise<UseLogEntry[]> {
    const { rows } = await this.db.query<UseLogRow>(
      `SELECT id::text AS id, at, event, alert_id::text AS alert_id, details FROM deployment_use_log
       WHERE deployment_id = $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
       ORDER BY deployment_use_log.id`,
      [deploymentId, window.from?.toISOString() ?? null, window.to?.toISOString() ?? null],
    );
    return rows.map(toEntry);
  }

  /** Deletes entries older than `cutoff`; the count per deployment. */
  async deleteBefore(
    cutoff: Date,
    tx: Queryable = this.db,
  ): Promise<{ deploymentId: string; entries: number }[]> {
    const { rows } = await tx.query<{ deployment_id: string; entries: string | number }>(
      `WITH deleted AS (DELETE FROM deployment_use_log WHERE at < $1::timestamptz RETURNING deployment_id)
       SELECT deployment_id, count(*) AS entries FROM deleted GROUP BY deployment_id ORDER BY deployment_id`,
      [cutoff.toISOString()],
    );
    return rows.map((row) => ({ deploymentId: row.deployment_id, entries: Number(row.entries) }));
  }
}
