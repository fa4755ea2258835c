import type { Database, Logger } from '@vigil/core';

export interface CounterDelta {
  frames?: number;
  facesProcessed?: number;
  facesMatched?: number;
}

/** Once a second: one upsert per camera a second, whatever the frame and face rates. */
export const COUNTER_FLUSH_MS = 1000;

/**
 * `deployment_counters`, the only trace a face that matched nothing leaves: counts per deployment,
 * camera and hour, gathered in memory and written in one upsert per row every second.
 */
export class DeploymentCounters {
  #pending = new Map<
    string,
    { deploymentId: string; cameraId: string; hour: string } & Required<CounterDelta>
  >();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly flushMs = COUNTER_FLUSH_MS,
  ) {}

  add(deploymentId: string, cameraId: string, delta: CounterDelta, at = new Date()): void {
    const hourDate = new Date(at);
    hourDate.setUTCMinutes(0, 0, 0);
    const hour = hourDate.toISOString();
    const key = `${deploymentId}/${cameraId}/${hour}`;
    let entry = this.#pending.get(key);
    if (!entry) {
      entry = { deploymentId, cameraId, hour, frames: 0, facesProcessed: 0, facesMatched: 0 };
      this.#pending.set(key, entry);
    }
    entry.frames += delta.frames ?? 0;
    entry.facesProcessed += delta.facesProcessed ?? 0;
    entry.facesMatched += delta.facesMatched ?? 0;
    this.#timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what has been counted so far. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    this.#flushing = this.#flushing.then(async () => {
      for (const row of batch) {
        try {
          await this.db.query(
            `INSERT INTO deployment_counters (deployment_id, camera_id, hour, frames, faces_processed, faces_matched)
             SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM deployments WHERE id = $1)
             ON CONFLICT (deployment_id, camera_id, hour) DO UPDATE SET
               frames = deployment_counters.frames + EXCLUDED.frames,
               faces_processed = deployment_counters.faces_processed + EXCLUDED.faces_processed,
               faces_matched = deployment_counters.faces_matched + EXCLUDED.faces_matched`,
            [row.deploymentId, row.cameraId, row.hour, row.frames, row.facesProcessed, row.facesMatched],
          );
        } catch (error) {
          this.logger.warn({ err: error, deployment: row.deploymentId }, 'counter upsert failed');
        }
      }
    });
    return this.#flushing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
  }
}
