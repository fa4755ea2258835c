import type { ChainHead, Queryable } from '@vigil/core';

/** Subjects on a deployment's frozen list per category and priority: numbers, no names. */
export interface CompositionCount {
  category: string;
  priority: string;
  subjects: number;
}

/** The audit chain's newest row, how many rows it holds, and when that row was written. */
export type ChainHeadAt = ChainHead & { at: string };

/** What an evidence pack reads beyond the other oversight repositories: the list's make-up, the chain's head. */
export class EvidencePackRepository {
  constructor(private readonly db: Queryable) {}

  /** `deployment_subject_log` of one deployment counted by category and priority. */
  async composition(deploymentId: string): Promise<CompositionCount[]> {
    const { rows } = await this.db.query<{ category: string; priority: string; subjects: string | number }>(
      `SELECT category, priority, count(*) AS subjects FROM deployment_subject_log WHERE deployment_id = $1
       GROUP BY category, priority`,
      [deploymentId],
    );
    return rows.map((row) => ({
      category: row.category,
      priority: row.priority,
      subjects: Number(row.subjects),
    }));
  }

  /** The newest audit row with its time; undefined for an empty trail. */
  async chainHead(): Promise<ChainHeadAt | undefined> {
    const { rows } = await this.db.query<{
      id: string;
      hash: string;
      at: Date | string;
      entries: string | number;
    }>(
      'SELECT id, hash, at, (SELECT count(*) FROM audit_log) AS entries FROM audit_log ORDER BY id DESC LIMIT 1',
    );
    const row = rows[0];
    return row
      ? {
          headId: Number(row.id),
          headHash: row.hash,
          entries: Number(row.entries),
          at: new Date(row.at).toISOString(),
        }
      : undefined;
  }
}
