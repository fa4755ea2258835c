import type { Queryable } from '@vigil/core';

/** One measured point of a model's calibration: the false match rate at a threshold. */
export interface CalibrationPoint {
  threshold: number;
  /** Per-comparison false match rate measured on the evaluation set. */
  fmr: number;
  /** True positive identification rate at that threshold, when measured. */
  tpir?: number;
}

/** False match rates of a model measured by `vigil calibrate`, stored for the published record. */
export interface StoredCalibration {
  id: string;
  model: string;
  dataset: string;
  nonMatedComparisons: number;
  rows: CalibrationPoint[];
  createdBy: string | null;
  createdAt: string;
}

interface CalibrationRow {
  id: string;
  model: string;
  dataset: string;
  non_mated_comparisons: string | number;
  rows: CalibrationPoint[] | string;
  created_by: string | null;
  created_at: Date | string;
}

const toCalibration = (row: CalibrationRow): StoredCalibration => ({
  id: row.id,
  model: row.model,
  dataset: row.dataset,
  nonMatedComparisons: Number(row.non_mated_comparisons),
  rows: typeof row.rows === 'string' ? (JSON.parse(row.rows) as CalibrationPoint[]) : row.rows,
  createdBy: row.created_by,
  createdAt: new Date(row.created_at).toISOString(),
});

const COLUMNS = 'id::text AS id, model, dataset, non_mated_comparisons, rows, created_by, created_at';

/** `threshold_calibrations`. */
export class CalibrationRepository {
  constructor(private readonly db: Queryable) {}

  async insert(
    input: Omit<StoredCalibration, 'id' | 'createdAt'>,
    tx: Queryable = this.db,
  ): Promise<StoredCalibration> {
    const { rows } = await tx.query<CalibrationRow>(
      `INSERT INTO threshold_calibrations (model, dataset, non_mated_comparisons, rows, created_by)
       VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING ${COLUMNS}`,
      [input.model, input.dataset, input.nonMatedComparisons, JSON.stringify(input.rows), input.createdBy],
    );
    return toCalibration(rows[0] as CalibrationRow);
  }

  /** The newest calibration of each model. */
  async latest(): Promise<StoredCalibration[]> {
    const { rows } = await this.db.query<CalibrationRow>(
      `SELECT ${COLUMNS} FROM threshold_calibrations c
       WHERE c.id = (SELECT max(n.id) FROM threshold_calibrations n WHERE n.model = c.model) ORDER BY c.model`,
    );
    return rows.map(toCalibration);
  }

  async latestFor(model: string): Promise<StoredCalibration | undefined> {
    const { rows } = await this.db.query<CalibrationRow>(
      `SELECT ${COLUMNS} FROM threshold_calibrations WHERE model = $1 ORDER BY threshold_calibrations.id DESC LIMIT 1`,
      [model],
    );
    return rows[0] ? toCalibration(rows[0]) : undefined;
  }
}
