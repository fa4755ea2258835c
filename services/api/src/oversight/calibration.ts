import { ValidationError } from '@vigil/core';

/** One labelled face embedding of an evaluation set (e.g. one LFW photo). */
export interface LabelledEmbedding {
  identity: string;
  embedding: ArrayLike<number>;
}

export interface CalibrationOptions {
  /** The watchlist size the figures are for. */
  watchlistSize: number;
  /** Similarity thresholds to report; DEFAULT_CALIBRATION_THRESHOLDS when absent. */
  thresholds?: number[];
  /** Share of identities kept off the watchlist as non-mated probes (default 0.5). */
  nonMatedShare?: number;
  /** Seed of the deterministic shuffle that picks who is enrolled. */
  seed?: number;
}

export interface CalibrationRow {
  threshold: number;
  /**
   * True positive identification rate: mated probes (the person is on the list) whose best match
   * is their own entry with a score at or above the threshold.
   */
  tpir: number;
  /** False positive identification rate measured: non-mated probes with any match at or above it. */
  fpir: number;
  /**
   * FPIR at `watchlistSize` from the per-comparison false match rate: 1 - (1 - FMR)^N. Equals the
   * measured FPIR's expectation when the gallery is that size; the only figure when the set has
   * fewer identities than the watchlist.
   */
  fpirAtWatchlistSize: number;
  /** Per-comparison false match rate: non-mated probe/entry pairs at or above the threshold. */
  fmr: number;
  /**
   * False alerts to expect per 1,000 and per 10,000 faces of people not on a list of
   * `watchlistSize` (from `fpirAtWatchlistSize`): what a deployment's operators will see.
   */
  expectedFalseAlerts: { per1000Faces: number; per10000Faces: number };
}

export interface CalibrationReport {
  watchlistSize: number;
  /** Identities actually enrolled (one embedding each): at most watchlistSize. */
  galleryIdentities: number;
  matedProbes: number;
  nonMatedProbes: number;
  nonMatedIdentities: number;
  /**
   * Non-mated probe/entry comparisons behind FMR. With none at or above a threshold, FMR is only
   * known to be below about 3 / comparisons (95%, the rule of three), and FPIR at size likewise.
   */
  nonMatedComparisons: number;
  rows: CalibrationRow[];
}

/** 0.20 to 0.90 in steps of 0.05: covers the useful range of cosine similarity for face embeddings. */
export const DEFAULT_CALIBRATION_THRESHOLDS = Array.from(
  { length: 15 },
  (_, i) => Math.round((0.2 + i * 0.05) * 100) / 100,
);

function normalised(values: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(values);
  let norm = 0;
  for (const v of out) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / norm;
  return out;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** mulberry32: small, deterministic, good enough to shuffle identities. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts of scores at or above each threshold (thresholds ascending), via one sort. */
function countAtOrAbove(scores: Float64Array, thresholds: number[]): number[] {
  const sorted = Float64Array.from(scores).sort();
  return thresholds.map((t) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return sorted.length - lo;
  });
}

/**
 * What a threshold means for a watchlist of a given size, from a labelled evaluation set, in the
 * open-set identification terms of NIST FRVT 1:N (and the UK police's published figures):
 * identities are shuffled; a share is kept off the list (their photos are non-mated probes),
 * the rest are enrolled with one photo each up to `watchlistSize`, and their other photos are
 * mated probes. Each probe is compared with every entry by cosine similarity.
 */
export function calibrationReport(
  samples: LabelledEmbedding[],
  options: CalibrationOptions,
): CalibrationReport {
  if (!Number.isInteger(options.watchlistSize) || options.watchlistSize < 1)
    throw new ValidationError('watchlist size must be a positive integer', 'invalid_watchlist_size');
  const thresholds = [...(options.thresholds ?? DEFAULT_CALIBRATION_THRESHOLDS)].sort((a, b) => a - b);
  const share = options.nonMatedShare ?? 0.5;
  if (!(share > 0 && share < 1))
    throw new ValidationError('nonMatedShare must be between 0 and 1', 'invalid_share');

  const byIdentity = new Map<string, Float32Array[]>();
  let dimension: number | undefined;
  for (const sample of samples) {
    const vector = normalised(sample.embedding);
    dimension ??= vector.length;
    if (vector.length !== dimension)
      throw new ValidationError('embeddings of different dimensions in one set', 'invalid_embedding');
    const list = byIdentity.get(sample.identity) ?? [];
    list.push(vector);
    byIdentity.set(sample.identity, list);
  }
  const identities = [...byIdentity.keys()].sort();
  const next = random(options.seed ?? 1);
  for (let i = identities.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [identities[i], identities[j]] = [identities[j] as string, identities[i] as string];
  }
  const nonMatedCount = Math.max(1, Math.round(identities.length * share));
  const nonMatedIdentities = identities.slice(0, nonMatedCount);
  // Identities with a second photo first: only they give mated probes.
  const candidates = identities.slice(nonMatedCount);
  candidates.sort(
    (a, b) => Number((byIdentity.get(b)?.length ?? 0) > 1) - Number((byIdentity.get(a)?.length ?? 0) > 1),
  );
  const galleryIdentities = candidates.slice(0, options.watchlistSize);
  if (galleryIdentities.length === 0 || nonMatedIdentities.length === 0)
    throw new ValidationError('the set needs at least two identities', 'too_few_identities');

  const gallery = galleryIdentities.map(
    (identity) => (byIdentity.get(identity) as Float32Array[])[0] as Float32Array,
  );
  const mated: { probe: Float32Array; entry: number }[] = [];
  galleryIdentities.forEach((identity, entry) => {
    for (const probe of (byIdentity.get(identity) as Float32Array[]).slice(1)) mated.push({ probe, entry });
  });
  const nonMated = nonMatedIdentities.flatMap((identity) => byIdentity.get(identity) as Float32Array[]);

  // Mated: the score of the mate if it is also the best candidate (rank 1), else -Infinity.
  const matedScores = new Float64Array(mated.length);
  mated.forEach(({ probe, entry }, i) => {
    let best = Number.NEGATIVE_INFINITY;
    let bestEntry = -1;
    gallery.forEach((g, k) => {
      const s = dot(probe, g);
      if (s > best) {
        best = s;
        bestEntry = k;
      }
    });
    matedScores[i] = bestEntry === entry ? best : Number.NEGATIVE_INFINITY;
  });
  const nonMatedBest = new Float64Array(nonMated.length);
  const nonMatedAll = new Float64Array(nonMated.length * gallery.length);
  nonMated.forEach((probe, i) => {
    let best = Number.NEGATIVE_INFINITY;
    gallery.forEach((g, k) => {
      const s = dot(probe, g);
      nonMatedAll[i * gallery.length + k] = s;
      if (s > best) best = s;
    });
    nonMatedBest[i] = best;
  });

  const tp = countAtOrAbove(matedScores, thresholds);
  const fp = countAtOrAbove(nonMatedBest, thresholds);
  const fm = countAtOrAbove(nonMatedAll, thresholds);
  return {
    watchlistSize: options.watchlistSize,
    galleryIdentities: gallery.length,
    matedProbes: mated.length,
    nonMatedProbes: nonMated.length,
    nonMatedIdentities: nonMatedIdentities.length,
    nonMatedComparisons: nonMatedAll.length,
    rows: thresholds.map((threshold, i) => {
      const fmr = nonMatedAll.length > 0 ? (fm[i] as number) / nonMatedAll.length : 0;
      const fpirAtWatchlistSize = 1 - (1 - fmr) ** options.watchlistSize;
      return {
        threshold,
        tpir: mated.length > 0 ? (tp[i] as number) / mated.length : 0,
        fpir: nonMated.length > 0 ? (fp[i] as number) / nonMated.length : 0,
        fpirAtWatchlistSize,
        fmr,
        expectedFalseAlerts: {
          per1000Faces: fpirAtWatchlistSize * 1000,
          per10000Faces: fpirAtWatchlistSize * 10_000,
        },
      };
    }),
  };
}

/** The report as a fixed-width table for a terminal. */
export function formatCalibrationReport(report: CalibrationReport): string {
  const lines = [
    `watchlist size ${report.watchlistSize}: ${report.galleryIdentities} identities enrolled, ` +
      `${report.matedProbes} mated probes, ${report.nonMatedProbes} non-mated probes (${report.nonMatedIdentities} identities)`,
    'threshold    TPIR      FPIR(measured)  FPIR(at size)   FMR       false alerts per 1,000 / 10,000 faces',
  ];
  lines.splice(
    1,
    0,
    `FMR resolution: ${report.nonMatedComparisons} non-mated comparisons; 0 means below about ${(
      3 / Math.max(1, report.nonMatedComparisons)
    ).toExponential(1)}`,
  );
  for (const row of report.rows)
    lines.push(
      `${row.threshold.toFixed(2).padStart(9)}  ${(row.tpir * 100).toFixed(2).padStart(6)}%  ${(
        row.fpir * 100
      )
        .toFixed(3)
        .padStart(
          13,
        )}%  ${(row.fpirAtWatchlistSize * 100).toFixed(3).padStart(13)}%  ${row.fmr.toExponential(2)}  ${row.expectedFalseAlerts.per1000Faces
        .toFixed(2)
        .padStart(8)} / ${row.expectedFalseAlerts.per10000Faces.toFixed(1)}`,
    );
  return `${lines.join('\n')}\n`;
}
