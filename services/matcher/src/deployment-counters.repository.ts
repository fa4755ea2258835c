import type { Database, Logger } from '@vigil/core';

export interface CounterDelta {
  /** Frames ingest read from the camera. */
  framesRead?: number;
  /** Frames a detector analysed. */
  frames?: number;
  facesProcessed?: number;
  facesMatched?: number;
}

/** Once a second: one upsert per camera a second, whatever the frame and face rates. */
export const COUNTER_FLUSH_MS = 1000;

type Row = { deploymentId: string; cameraId: string; hour: string };

/** The start of `at`'s hour, as the rows key it. */
function hourOf(at: Date): string {
  const hour = new Date(at);
  hour.setUTCMinutes(0, 0, 0);
  return hour.toISOString();
}

/**
 * `deployment_counters`, the only trace a face that matched nothing leaves: counts per deployment,
 * camera and hour, gathered in memory and written in one upsert per row every second; and
 * `deployment_frames_not_analysed`, the frames read and never analysed by reason, the same way.
 */
export class DeploymentCounters {
  #pending = new Map<string, Row & Required<CounterDelta>>();
  #notAnalysed = new Map<string, Row & { reason: string; frames: number }>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly flushMs = COUNTER_FLUSH_MS,
  ) {}

  add(deploymentId: string, cameraId: string, delta: CounterDelta, at = new Date()): void {
    const hour = hourOf(at);
    const key = `${deploymentId}/${cameraId}/${hour}`;
    let entry = this.#pending.get(key);
    if (!entry) {
      entry = { deploymentId, cameraId, hour, framesRead: 0, frames: 0, facesProcessed: 0, facesMatched: 0 };
      this.#pending.set(key, entry);
    }
    entry.framesRead += delta.framesRead ?? 0;
    entry.frames += delta.frames ?? 0;
    entry.facesProcessed += delta.facesProcessed ?? 0;
    entry.facesMatched += delta.facesMatched ?? 0;
    this.#timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Frames of a camera read and never analysed, for `reason` (a snake_case token). */
  addNotAnalysed(
    deploymentId: string,
    cameraId: string,
    reason: string,
    frames: number,
    at = new Date(),
  ): void {
    const hour = hourOf(at);
    const key = `${deploymentId}/${cameraId}/${hour}/${reason}`;
    let entry = this.#notAnalysed.get(key);
    if (!entry) {
      entry = { deploymentId, cameraId, hour, reason, frames: 0 };
      this.#notAnalysed.set(key, entry);
    }
    entry.frames += frames;
    this.#timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what has been counted so far. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending.values()];
    const notAnalysed = [...this.#notAnalysed.values()];
    this.#pending.clear();
    this.#notAnalysed.clear();
    this.#flushing = this.#flushing.then(async () => {
      for (const row of batch) {
        await this.#upsert(
          row,
          `INSERT INTO deployment_counters (deployment_id, camera_id, hour, frames_read, frames, faces_processed, faces_matched)
           SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM deployments WHERE id = $1)
           ON CONFLICT (deployment_id, camera_id, hour) DO UPDATE SET
             frames_read = deployment_counters.frames_read + EXCLUDED.frames_read,
             frames = deployment_counters.frames + EXCLUDED.frames,
             faces_processed = deployment_counters.faces_processed + EXCLUDED.faces_processed,
             faces_matched = deployment_counters.faces_matched + EXCLUDED.faces_matched`,
          [row.framesRead, row.frames, row.facesProcessed, row.facesMatched],
        );
      }
      for (const row of notAnalysed) {
        await this.#upsert(
          row,
          `INSERT INTO deployment_frames_not_analysed (deployment_id, camera_id, hour, reason, frames)
           SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM deployments WHERE id = $1)
           ON CONFLICT (deployment_id, camera_id, hour, reason) DO UPDATE SET
             frames = deployment_frames_not_analysed.frames + EXCLUDED.frames`,
          [row.reason, row.frames],
        );
      }
    });
    return this.#flushing;
  }

  /** One row's upsert: a failure is logged and the row's counts lost, never thrown at a worker. */
  async #upsert(row: Row, sql: string, values: unknown[]): Promise<void> {
    try {
      await this.db.query(sql, [row.deploymentId, row.cameraId, row.hour, ...values]);
    } catch (error) {
      this.logger.warn({ err: error, deployment: row.deploymentId }, 'counter upsert failed');
    }
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
  }
}
