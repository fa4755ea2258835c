import type { Queryable } from '@vigil/core';

export interface Watchlist {
  id: string;
  name: string;
  description: string;
  subjectCount: number;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
}

interface WatchlistRow {
  id: string;
  name: string;
  description: string;
  subject_count: number | string;
  created_by: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

function fromRow(row: WatchlistRow): Watchlist {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    subjectCount: Number(row.subject_count ?? 0),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const SELECT = `SELECT w.*, (SELECT count(*) FROM subjects s WHERE s.watchlist_id = w.id) AS subject_count
  FROM watchlists w`;

/** The `watchlists` table. */
export class WatchlistRepository {
  constructor(private readonly db: Queryable) {}

  async create(
    input: { name: string; description: string; createdBy: string },
    tx = this.db,
  ): Promise<Watchlist> {
    const { rows } = await tx.query<WatchlistRow>(
      `INSERT INTO watchlists (name, description, created_by) VALUES ($1, $2, $3)
       RETURNING *, 0 AS subject_count`,
      [input.name, input.description, input.createdBy],
    );
    return fromRow(rows[0]!);
  }

  async list(): Promise<Watchlist[]> {
    const { rows } = await this.db.query<WatchlistRow>(`${SELECT} ORDER BY w.created_at, w.id`);
    return rows.map(fromRow);
  }

  async find(id: string, tx = this.db): Promise<Watchlist | undefined> {
    const { rows } = await tx.query<WatchlistRow>(`${SELECT} WHERE w.id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async update(id: string, changes: { name?: string; description?: string }, tx = this.db): Promise<boolean> {
    const { rowCount } = await tx.query(
      `UPDATE watchlists SET name = COALESCE($2, name), description = COALESCE($3, description), updated_at = now()
       WHERE id = $1`,
      [id, changes.name ?? null, changes.description ?? null],
    );
    return rowCount > 0;
  }

  async delete(id: string, tx = this.db): Promise<boolean> {
    const { rowCount } = await tx.query('DELETE FROM watchlists WHERE id = $1', [id]);
    return rowCount > 0;
  }

  /** True when a running deployment searches this watchlist. */
  async inRunningDeployment(id: string, tx = this.db): Promise<boolean> {
    const { rows } = await tx.query(
      `SELECT 1 FROM deployment_watchlists dw JOIN deployments d ON d.id = dw.deployment_id
       WHERE dw.watchlist_id = $1 AND d.status = 'running' LIMIT 1`,
      [id],
    );
    return rows.length > 0;
  }
}
