import type { Database, Queryable } from '@vigil/core';

/** A stopped deployment whose watchlist snapshot is due for destruction. */
export interface DueSnapshot {
  deploymentId: string;
}

export interface DeletedSnapshot {
  deploymentId: string;
  entries: number;
}

export interface DeletedAlerts {
  deploymentId: string;
  alerts: number;
  adjudications: number;
  dispatches: number;
  crops: number;
}

export interface DeletedSubject {
  subjectId: string;
  watchlistId: string;
  referenceImages: number;
  embeddings: number;
  snapshotEntries: number;
}

// One retention run at a time across every process sharing the database.
const RETENTION_LOCK_ID = 7_114_413;

/** Tables whose rows retention deletes, and so whose files it compacts afterwards. */
export const RETENTION_TABLES = [
  'snapshot_entries',
  'alerts',
  'adjudications',
  'alert_dispatches',
  'subjects',
  'reference_images',
  'embeddings',
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

async function tableExists(tx: Queryable, name: string): Promise<boolean> {
  const { rows } = await tx.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [
    name,
  ]);
  return rows[0]?.exists === true;
}

/** The deletions retention makes. Every method runs inside the caller's transaction. */
export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /** Takes the retention lock for this transaction; false when another run holds it. */
  async tryLock(tx: Queryable): Promise<boolean> {
    const { rows } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
      RETENTION_LOCK_ID,
    ]);
    return rows[0]?.locked === true;
  }

  /**
   * Destroys the snapshots of stopped deployments whose grace period is over:
   * `snapshot_destroy_after` (set at stop), or the stop time plus `graceHours` where it is unset.
   */
  async destroySnapshots(tx: Queryable, now: Date, graceHours: number): Promise<DeletedSnapshot[]> {
    const { rows: due } = await tx.query<{ id: string }>(
      `SELECT id FROM deployments
        WHERE status = 'stopped' AND snapshot_destroyed_at IS NULL
          AND coalesce(snapshot_destroy_after, stopped_at + make_interval(secs => $2 * 3600)) <= $1::timestamptz
        ORDER BY id
        FOR UPDATE`,
      [now.toISOString(), graceHours],
    );
    const destroyed: DeletedSnapshot[] = [];
    for (const { id } of due) {
      const deleted = await tx.query('DELETE FROM snapshot_entries WHERE deployment_id = $1', [id]);
      await tx.query('UPDATE deployments SET snapshot_destroyed_at = $2::timestamptz WHERE id = $1', [
        id,
        now.toISOString(),
      ]);
      destroyed.push({ deploymentId: id, entries: deleted.rowCount });
    }
    return destroyed;
  }

  /**
   * Deletes alerts captured before `cutoff` (their crops with them; adjudications and dispatches
   * cascade), first folding their outcome counts into `alert_outcome_archive` so the published
   * statistics stay as they were.
   */
  async deleteAlerts(tx: Queryable, cutoff: Date): Promise<DeletedAlerts[]> {
    const hasDispatches = await tableExists(tx, 'alert_dispatches');
    const { rows } = await tx.query<{
      deployment_id: string;
      alerts: number | string;
      adjudications: number | string;
      dispatches: number | string;
      crops: number | string;
    }>(
      `SELECT a.deployment_id, count(*) AS alerts,
              count(a.encrypted_probe) AS crops,
              coalesce(sum((SELECT count(*) FROM adjudications j WHERE j.alert_id = a.id)), 0) AS adjudications,
              ${
                hasDispatches
                  ? 'coalesce(sum((SELECT count(*) FROM alert_dispatches x WHERE x.alert_id = a.id)), 0)'
                  : '0'
              } AS dispatches
         FROM alerts a WHERE a.captured_at < $1::timestamptz
        GROUP BY a.deployment_id ORDER BY a.deployment_id`,
      [cutoff.toISOString()],
    );
    if (rows.length === 0) return [];
    await tx.query(
      `INSERT INTO alert_outcome_archive (deployment_id, hour, outcome, alerts)
       SELECT deployment_id, hour, outcome, count(*) FROM (
         SELECT a.deployment_id, date_trunc('hour', a.captured_at, 'UTC') AS hour,
                coalesce((SELECT j.outcome FROM adjudications j WHERE j.alert_id = a.id
                           ORDER BY j.created_at DESC, j.id DESC LIMIT 1), 'unresolved') AS outcome
           FROM alerts a WHERE a.captured_at < $1::timestamptz
       ) AS old
       GROUP BY deployment_id, hour, outcome
       ON CONFLICT (deployment_id, hour, outcome) DO UPDATE
         SET alerts = alert_outcome_archive.alerts + EXCLUDED.alerts`,
      [cutoff.toISOString()],
    );
    await tx.query('DELETE FROM alerts WHERE captured_at < $1::timestamptz', [cutoff.toISOString()]);
    return rows.map((row) => ({
      deploymentId: row.deployment_id,
      alerts: Number(row.alerts),
      adjudications: Number(row.adjudications),
      dispatches: Number(row.dispatches),
      crops: Number(row.crops),
    }));
  }

  /**
   * Deletes subjects whose `expires_at` has passed: their reference images and embeddings cascade,
   * and their copies in any deployment's snapshot go too. `deployment_subject_log` stays.
   */
  async deleteExpiredSubjects(tx: Queryable, now: Date): Promise<DeletedSubject[]> {
    const { rows } = await tx.query<{
      id: string;
      watchlist_id: string;
      images: number | string;
      embeddings: number | string;
    }>(
      `SELECT s.id, s.watchlist_id,
              (SELECT count(*) FROM reference_images r WHERE r.subject_id = s.id) AS images,
              (SELECT count(*) FROM embeddings e WHERE e.subject_id = s.id) AS embeddings
         FROM subjects s WHERE s.expires_at IS NOT NULL AND s.expires_at <= $1::timestamptz
        ORDER BY s.id
        FOR UPDATE`,
      [now.toISOString()],
    );
    const deleted: DeletedSubject[] = [];
    for (const row of rows) {
      const snapshot = await tx.query('DELETE FROM snapshot_entries WHERE subject_id = $1', [row.id]);
      await tx.query('DELETE FROM subjects WHERE id = $1', [row.id]);
      deleted.push({
        subjectId: row.id,
        watchlistId: row.watchlist_id,
        referenceImages: Number(row.images),
        embeddings: Number(row.embeddings),
        snapshotEntries: snapshot.rowCount,
      });
    }
    return deleted;
  }

  /**
   * Rewrites the tables' files so the deleted rows' bytes leave them. Plain VACUUM only marks the
   * space reusable (the bytes stay in the page until overwritten); VACUUM FULL writes a new file and
   * removes the old one. It locks the table briefly, which is why only tables that lost rows are
   * compacted. Runs outside any transaction, as VACUUM must. Only the table's owner (or, from
   * PostgreSQL 17, a role granted MAINTAIN) may do it: PostgreSQL merely warns otherwise, so those
   * tables are returned as not compacted (run `vigil retention run --compact` as the migration role).
   */
  async compact(
    tables: Iterable<RetentionTable>,
  ): Promise<{ compacted: RetentionTable[]; notCompacted: RetentionTable[] }> {
    const compacted: RetentionTable[] = [];
    const notCompacted: RetentionTable[] = [];
    for (const table of new Set(tables)) {
      if (!(await tableExists(this.db, table))) continue;
      if (!(await this.#mayVacuum(table))) {
        notCompacted.push(table);
        continue;
      }
      await this.db.query(`VACUUM (FULL, ANALYZE) ${table}`);
      compacted.push(table);
    }
    return { compacted, notCompacted };
  }

  async #mayVacuum(table: RetentionTable): Promise<boolean> {
    const { rows } = await this.db.query<{ owner: boolean }>(
      `SELECT pg_has_role(current_user, c.relowner, 'MEMBER')
              OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS owner
         FROM pg_class c WHERE c.oid = $1::regclass`,
      [table],
    );
    if (rows[0]?.owner) return true;
    try {
      const maintain = await this.db.query<{ ok: boolean }>(
        `SELECT has_table_privilege($1, 'MAINTAIN') AS ok`,
        [table],
      );
      return maintain.rows[0]?.ok === true;
    } catch {
      // Before PostgreSQL 17 there is no MAINTAIN privilege: the owner alone may.
      return false;
    }
  }
}
