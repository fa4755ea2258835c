import type { Queryable } from '@vigil/core';

export interface ImportFailure {
  row: number;
  label: string;
  code: string;
  message: string;
}

export interface ImportProgress {
  id: string;
  watchlistId: string;
  status: 'running' | 'done' | 'failed';
  total: number;
  processed: number;
  enrolled: number;
  failed: number;
  errors: ImportFailure[];
  error: string | null;
  createdBy: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface ImportRow {
  id: string;
  watchlist_id: string;
  status: ImportProgress['status'];
  total: number;
  processed: number;
  enrolled: number;
  failed: number;
  errors: ImportFailure[] | string;
  error: string | null;
  created_by: string | null;
  created_at: Date | string;
  finished_at: Date | string | null;
}

function fromRow(row: ImportRow): ImportProgress {
  return {
    id: row.id,
    watchlistId: row.watchlist_id,
    status: row.status,
    total: Number(row.total),
    processed: Number(row.processed),
    enrolled: Number(row.enrolled),
    failed: Number(row.failed),
    errors: typeof row.errors === 'string' ? JSON.parse(row.errors) : row.errors,
    error: row.error,
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  };
}

/** The `imports` table: progress of background bulk imports. */
export class ImportRepository {
  constructor(private readonly db: Queryable) {}

  async create(watchlistId: string, total: number, createdBy: string): Promise<ImportProgress> {
    const { rows } = await this.db.query<ImportRow>(
      'INSERT INTO imports (watchlist_id, total, created_by) VALUES ($1, $2, $3) RETURNING *',
      [watchlistId, total, createdBy],
    );
    return fromRow(rows[0]!);
  }

  async progress(
    id: string,
    counts: { processed: number; enrolled: number; failed: number; errors: ImportFailure[] },
  ): Promise<void> {
    await this.db.query(
      'UPDATE imports SET processed = $2, enrolled = $3, failed = $4, errors = $5::jsonb WHERE id = $1',
      [id, counts.processed, counts.enrolled, counts.failed, JSON.stringify(counts.errors)],
    );
  }

  async finish(id: string, status: 'done' | 'failed', error: string | null = null): Promise<void> {
    await this.db.query('UPDATE imports SET status = $2, error = $3, finished_at = now() WHERE id = $1', [
      id,
      status,
      error,
    ]);
  }

  async find(id: string): Promise<ImportProgress | undefined> {
    const { rows } = await this.db.query<ImportRow>('SELECT * FROM imports WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async listByWatchlist(watchlistId: string): Promise<ImportProgress[]> {
    const { rows } = await this.db.query<ImportRow>(
      'SELECT * FROM imports WHERE watchlist_id = $1 ORDER BY created_at DESC LIMIT 100',
      [watchlistId],
    );
    return rows.map(fromRow);
  }

  /** Imports a previous process left running: it died, so they failed. */
  async failInterrupted(): Promise<number> {
    const { rowCount } = await this.db.query(
      "UPDATE imports SET status = 'failed', error = 'interrupted by a restart', finished_at = now() WHERE status = 'running'",
    );
    return rowCount;
  }
}
