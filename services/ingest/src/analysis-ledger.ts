/**
 * Why a frame ingest read was never analysed: its publisher queue was full, the bus refused it (NATS
 * down), a detector took it and dropped it (a newer frame of the camera came first, too old, or not
 * decodable), or no detector took it at all (none running, or the bus lost it). The API reports them
 * by these names, so the contract holds the list.
 */
export { NOT_ANALYSED_REASONS, type NotAnalysedReason } from '@vigil/contract/values';

/**
 * 5 s: a detector reports each camera's frames every second, and drops a frame older than 2 s; a
 * frame published 5 s ago that no report counts yet was taken by no detector.
 */
export const SETTLE_MS = 5000;

/**
 * One camera's frames published on the bus against the detectors' reports of frames analysed or
 * dropped: what neither accounts for once the reports had time to come is "detector_unavailable".
 * The reports carry counts, not frame numbers, so the figure is right over minutes, not per frame.
 */
export class AnalysisLedger {
  #published = 0;
  #accounted = 0;
  #unaccounted = 0;
  /** Published totals over time, oldest first, one sample per call of `settle`. */
  #history: { at: number; published: number }[] = [];

  constructor(private readonly settleMs = SETTLE_MS) {}

  published(count = 1): void {
    this.#published += count;
  }

  /** A detector's report for this camera: frames it analysed and frames it dropped. */
  reported(analysed: number, dropped: number): void {
    this.#accounted += analysed + dropped;
  }

  /**
   * Frames published at least `settleMs` before `now` that no report accounts for and that an
   * earlier call has not returned. Call it at a steady pace (each status report).
   */
  settle(now: number): number {
    this.#history.push({ at: now, published: this.#published });
    let settled: number | undefined;
    while (this.#history.length > 0 && (this.#history[0] as { at: number }).at <= now - this.settleMs) {
      settled = (this.#history.shift() as { published: number }).published;
    }
    if (settled === undefined) return 0;
    // Keep the sample just used, so the next call still has a settled total to start from.
    this.#history.unshift({ at: now - this.settleMs, published: settled });
    const missing = settled - this.#accounted - this.#unaccounted;
    if (missing <= 0) return 0;
    this.#unaccounted += missing;
    return missing;
  }
}
