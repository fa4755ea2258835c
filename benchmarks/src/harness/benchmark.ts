import type { Chart } from './chart.js';
import type { MachineFacts } from './machine.js';

/** `quick` for a short run (CI, a fresh clone), `full` for the report. */
export type BenchmarkMode = 'quick' | 'full';

/** One line of the summary table. */
export interface SummaryRow {
  metric: string;
  /** Vigil's figure, formatted. */
  value: string;
  /** The reference figure measured in the same run, or a published one. */
  reference?: string;
  /** Ratio, target verdict or a short qualifier. */
  note?: string;
}

/** What a benchmark returns. */
export interface BenchmarkOutcome {
  /** `partial` when some sizes/profiles were skipped (the notes say which), `skipped` when none ran. */
  status: 'ok' | 'partial' | 'skipped' | 'failed';
  summary: SummaryRow[];
  /** Plain statements for the report: what was skipped and why, what the figures mean, caveats. */
  notes: string[];
  /** Machine-readable measurements (medians, percentiles, n, per-size tables). */
  data: Record<string, unknown>;
  /** PNG charts written through `context.chart`, paths relative to the results folder. */
  charts: { file: string; title: string }[];
}

/** A finished benchmark as written to `results/<name>.json`. */
export interface BenchmarkResult extends BenchmarkOutcome {
  name: string;
  title: string;
  mode: BenchmarkMode;
  startedAt: string;
  durationSeconds: number;
  machine: MachineFacts;
}

/** What every benchmark gets from the harness. */
export interface BenchmarkContext {
  mode: BenchmarkMode;
  /** Folder holding the public face data (`lfw/`, `video/`); may not exist. */
  dataDir: string;
  /** Folder of user-supplied ONNX models (the insightface profile); may not exist. */
  modelsDir: string;
  /** PostgreSQL server to create benchmark databases on; undefined skips the PostgreSQL parts. */
  databaseUrl: string | undefined;
  /** Why `databaseUrl` is unset: no server answered, or the server has no pgvector. */
  databaseSkipped?: string;
  cacheDir: string;
  resultsDir: string;
  /** Progress on stderr. */
  log(message: string): void;
  /** Renders `chart` to `results/<file>` and returns the entry for `charts`. */
  chart(file: string, chart: Chart): Promise<{ file: string; title: string }>;
}

/** One benchmark module. */
export interface Benchmark {
  name: string;
  title: string;
  run(context: BenchmarkContext): Promise<BenchmarkOutcome>;
}
