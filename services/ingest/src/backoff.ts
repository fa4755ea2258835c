export interface BackoffPolicy {
  /** Wait before the first retry. */
  initialMs: number;
  /** Cap: a dead camera is retried at least this often. */
  maxMs: number;
  /** Growth per consecutive failure. */
  factor: number;
}

/**
 * Frigate waits 10 s between ffmpeg restarts; Vigil starts at 1 s (a file camera or a flaky RTSP
 * session usually comes back at once) and doubles to a 30 s cap so a dead camera costs little.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, factor: 2 };

/** Delay before restart number `failures` (1 = first failure in a row). */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  const delay = policy.initialMs * policy.factor ** (failures - 1);
  return Math.min(policy.maxMs, delay);
}
