/** TPIR and FPIR at one threshold, as the oversight calibration report gives them. */
export interface RatePoint {
  threshold: number;
  tpir: number;
  fpir: number;
}

/**
 * A DET curve from operating points: (FPIR, FNIR = 1 - TPIR) for every point with FPIR > 0 (a log
 * axis has no zero), ordered by FPIR, duplicates of the same FPIR kept at their lowest FNIR.
 */
export function detCurve(points: readonly RatePoint[]): [number, number][] {
  const best = new Map<number, number>();
  for (const p of points) {
    if (!(p.fpir > 0)) continue;
    const fnir = 1 - p.tpir;
    best.set(p.fpir, Math.min(best.get(p.fpir) ?? Number.POSITIVE_INFINITY, fnir));
  }
  return [...best.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The lowest threshold whose FPIR does not exceed `targetFpir`, with its TPIR. `resolved` is false
 * when fewer than 1/targetFpir non-mated searches were made: then the chosen point is simply the
 * first with no false positive at all, and the true FPIR there is unknown below 1/nonMated.
 */
export function thresholdForFpir(
  points: readonly RatePoint[],
  targetFpir: number,
  nonMatedSearches: number,
): (RatePoint & { resolved: boolean }) | undefined {
  const admissible = points.filter((p) => p.fpir <= targetFpir).sort((a, b) => a.threshold - b.threshold);
  const chosen = admissible[0];
  return chosen ? { ...chosen, resolved: nonMatedSearches * targetFpir >= 1 } : undefined;
}

/** `count` thresholds evenly spaced from `from` to `to` inclusive, rounded to 4 decimals. */
export function thresholdGrid(from: number, to: number, count: number): number[] {
  return Array.from(
    { length: count },
    (_, i) => Math.round((from + ((to - from) * i) / (count - 1)) * 1e4) / 1e4,
  );
}
