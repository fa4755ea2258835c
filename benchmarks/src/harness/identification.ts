/**
 * 1:N identification measures as NIST FRVT and the NPL report use them: a search returns the
 * top-ranked gallery entry and its score; at threshold t a mated search is a true positive when that
 * entry is the probe's own enrolled mate with score >= t (rank-1 TPIR), and a non-mated search is a
 * false positive when the top score is >= t (FPIR).
 */
export interface Search {
  /** The probe's identity is enrolled in the gallery. */
  mated: boolean;
  /** Top-1 score, undefined when the probe gave no face (a miss, never a false positive). */
  score: number | undefined;
  /** For mated searches: the top-1 entry is the probe's mate. */
  correct: boolean;
}

/** One operating point. */
export interface OperatingPoint {
  threshold: number;
  tpir: number;
  fpir: number;
}

/** The whole curve plus its counts. */
export interface IdentificationCurve {
  mated: number;
  nonMated: number;
  /** Operating points for every distinct score, threshold descending (FPIR rising). */
  points: OperatingPoint[];
}

/** TPIR and FPIR at every threshold where either changes. */
export function identificationCurve(searches: readonly Search[]): IdentificationCurve {
  const mated = searches.filter((s) => s.mated);
  const nonMated = searches.filter((s) => !s.mated);
  const hits = mated
    .filter((s) => s.correct && s.score !== undefined)
    .map((s) => s.score as number)
    .sort((a, b) => b - a);
  const impostors = nonMated
    .filter((s) => s.score !== undefined)
    .map((s) => s.score as number)
    .sort((a, b) => b - a);
  const thresholds = [...new Set([...hits, ...impostors])].sort((a, b) => b - a);
  const points: OperatingPoint[] = [];
  let h = 0;
  let f = 0;
  for (const threshold of thresholds) {
    while (h < hits.length && (hits[h] as number) >= threshold) h++;
    while (f < impostors.length && (impostors[f] as number) >= threshold) f++;
    points.push({
      threshold,
      tpir: mated.length > 0 ? h / mated.length : 0,
      fpir: nonMated.length > 0 ? f / nonMated.length : 0,
    });
  }
  return { mated: mated.length, nonMated: nonMated.length, points };
}

/** TPIR and FPIR at one threshold. */
export function operatingPointAt(searches: readonly Search[], threshold: number): OperatingPoint {
  let mated = 0;
  let hits = 0;
  let nonMated = 0;
  let falsePositives = 0;
  for (const s of searches) {
    if (s.mated) {
      mated++;
      if (s.correct && s.score !== undefined && s.score >= threshold) hits++;
    } else {
      nonMated++;
      if (s.score !== undefined && s.score >= threshold) falsePositives++;
    }
  }
  return {
    threshold,
    tpir: mated > 0 ? hits / mated : 0,
    fpir: nonMated > 0 ? falsePositives / nonMated : 0,
  };
}

/**
 * The lowest threshold whose FPIR does not exceed `targetFpir` (just above the non-mated score that
 * would push it over), and the TPIR there. With fewer than 1/targetFpir non-mated searches the only
 * admissible point is FPIR 0: `resolved` says whether the data can show the target at all.
 */
export function thresholdForFpir(
  searches: readonly Search[],
  targetFpir: number,
): OperatingPoint & { resolved: boolean; falsePositivesAllowed: number } {
  const impostors = searches
    .filter((s) => !s.mated && s.score !== undefined)
    .map((s) => s.score as number)
    .sort((a, b) => b - a);
  const nonMated = searches.filter((s) => !s.mated).length;
  const allowed = Math.floor(targetFpir * nonMated);
  const threshold = allowed < impostors.length ? (impostors[allowed] as number) + 1e-6 : -1;
  return {
    ...operatingPointAt(searches, threshold),
    resolved: nonMated * targetFpir >= 1,
    falsePositivesAllowed: allowed,
  };
}

/**
 * Top-1 search of every probe against a gallery of unit vectors (inner product = cosine).
 * `gallery` and `probes` are row-major, `dimension` wide.
 */
export function topOne(
  gallery: Float32Array,
  probes: Float32Array,
  dimension: number,
): { index: Int32Array; score: Float32Array } {
  const galleryCount = gallery.length / dimension;
  const probeCount = probes.length / dimension;
  const index = new Int32Array(probeCount);
  const score = new Float32Array(probeCount);
  for (let p = 0; p < probeCount; p++) {
    const offset = p * dimension;
    let best = Number.NEGATIVE_INFINITY;
    let bestIndex = -1;
    for (let g = 0; g < galleryCount; g++) {
      const galleryOffset = g * dimension;
      let dot = 0;
      for (let k = 0; k < dimension; k++)
        dot += (probes[offset + k] as number) * (gallery[galleryOffset + k] as number);
      if (dot > best) {
        best = dot;
        bestIndex = g;
      }
    }
    index[p] = bestIndex;
    score[p] = best;
  }
  return { index, score };
}
