import type { LfwDataset } from './lfw-dataset.js';

/**
 * LFW as a watchlist (issue 21's protocol): every person with two or more photos is enrolled once by
 * their first photo and searched with their second (mated searches); every person with one photo is
 * a non-mated search, unless their name is another LFW name of an enrolled person.
 */
export interface WatchlistProtocol {
  /** Enrolled photos, one a person, in name order. */
  gallery: { identity: string; file: string }[];
  /** Second photos of enrolled people. */
  mated: { identity: string; file: string }[];
  /** First photos of people with one photo, aliases of enrolled people left out. */
  nonMated: { identity: string; file: string }[];
  /** One-photo names left out as another name of an enrolled person. */
  aliases: string[];
}

/** A name's parts, lower case: `Choi_Sung-hong` -> choi, sung, hong. */
function nameTokens(name: string): Set<string> {
  return new Set(name.toLowerCase().split(/[_-]+/).filter(Boolean));
}

/** Whether every part of the shorter name is a part of the other. */
function tokensOverlap(a: Set<string>, b: Set<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const token of small) if (!large.has(token)) return false;
  return true;
}

/**
 * Whether two LFW names may be one person: the same parts in any order (Wang_Nan / Nan_Wang,
 * Sung_Hong_Choi / Choi_Sung-hong) or one name's parts all within the other's.
 */
export function mayBeSamePerson(a: string, b: string): boolean {
  return tokensOverlap(nameTokens(a), nameTokens(b));
}

/** The protocol over `dataset`'s people. */
export function watchlistProtocol(dataset: Pick<LfwDataset, 'people'>): WatchlistProtocol {
  const protocol: WatchlistProtocol = { gallery: [], mated: [], nonMated: [], aliases: [] };
  const enrolled: string[] = [];
  for (const [identity, photos] of dataset.people) {
    if (photos.length < 2) continue;
    enrolled.push(identity);
    protocol.gallery.push({ identity, file: photos[0] as string });
    protocol.mated.push({ identity, file: photos[1] as string });
  }
  const enrolledTokens = enrolled.map(nameTokens);
  for (const [identity, photos] of dataset.people) {
    if (photos.length !== 1) continue;
    const tokens = nameTokens(identity);
    if (enrolledTokens.some((other) => tokensOverlap(other, tokens))) protocol.aliases.push(identity);
    else protocol.nonMated.push({ identity, file: photos[0] as string });
  }
  return protocol;
}

/**
 * A smaller protocol for a quick run: `enrolled` people and `nonMated` searches taken evenly across
 * the alphabet, each enrolled person with their mated search.
 */
export function sampledProtocol(
  protocol: WatchlistProtocol,
  enrolled: number,
  nonMated: number,
): WatchlistProtocol {
  // The middle item of each of `count` equal stretches of the list.
  const evenly = <T>(items: T[], count: number): T[] =>
    items.length <= count
      ? items
      : Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)] as T);
  const gallery = evenly(protocol.gallery, enrolled);
  const identities = new Set(gallery.map((g) => g.identity));
  return {
    gallery,
    mated: protocol.mated.filter((m) => identities.has(m.identity)),
    nonMated: evenly(protocol.nonMated, nonMated),
    aliases: protocol.aliases,
  };
}

/**
 * Two-view "tracks" from LFW, to measure what fusing a track's views is worth: the enrolled people
 * who have a third photo, each searched once with their second photo alone and once with the unit
 * mean of their second and third (as the matcher fuses a track's views, equal weights here: LFW gives
 * no view quality). Both protocols keep the whole gallery and every non-mated search, so their
 * thresholds at each FPIR are the same and the TPIRs compare like for like.
 */
export function twoViewTracks(
  protocol: WatchlistProtocol,
  dataset: Pick<LfwDataset, 'people'>,
  embeddings: ReadonlyMap<string, Float32Array | undefined>,
): {
  single: WatchlistProtocol;
  fused: WatchlistProtocol;
  embeddings: Map<string, Float32Array | undefined>;
} {
  const withFused = new Map(embeddings);
  const single: WatchlistProtocol['mated'] = [];
  const fused: WatchlistProtocol['mated'] = [];
  for (const search of protocol.mated) {
    const third = dataset.people.get(search.identity)?.[2];
    if (!third) continue;
    single.push(search);
    const key = `${search.file}+${third}`;
    withFused.set(key, meanOf(embeddings.get(search.file), embeddings.get(third)));
    fused.push({ identity: search.identity, file: key });
  }
  return {
    single: { ...protocol, mated: single },
    fused: { ...protocol, mated: fused },
    embeddings: withFused,
  };
}

/** The unit mean of two unit vectors; the one there is when the other photo had no face. */
function meanOf(a: Float32Array | undefined, b: Float32Array | undefined): Float32Array | undefined {
  if (!a || !b) return a ?? b;
  const sum = a.map((x, i) => x + (b[i] as number));
  const norm = Math.hypot(...sum) || 1;
  return sum.map((x) => x / norm);
}

/** Third photos of the protocol's enrolled people: what twoViewTracks needs beyond the protocol. */
export function thirdPhotos(protocol: WatchlistProtocol, dataset: Pick<LfwDataset, 'people'>): string[] {
  return protocol.gallery.flatMap((g) => dataset.people.get(g.identity)?.slice(2, 3) ?? []);
}

/** Every photo the protocol needs embedded. */
export function protocolFiles(protocol: WatchlistProtocol): string[] {
  return [...protocol.gallery, ...protocol.mated, ...protocol.nonMated].map((p) => p.file);
}

/** A search's best entry: its score and whether it is the searched person. */
interface BestMatch {
  score: number;
  correct: boolean;
}

/** One operating point: the lowest threshold whose FPIR is at most `fpir`, and its TPIR. */
export interface OperatingPoint {
  fpir: number;
  threshold: number;
  tpir: number;
  /** Non-mated searches at or above the threshold. */
  falseAlerts: number;
}

/** 1:N figures on one watchlist. */
export interface IdentificationResult {
  watchlistSize: number;
  matedSearches: number;
  nonMatedSearches: number;
  /** Mated searches whose best entry is their own, at any score. */
  rank1: number;
  points: OperatingPoint[];
  /** The non-mated searches' best scores, highest first (for expected false alerts at any threshold). */
  nonMatedScores: number[];
  /** Each mated search's score when its best entry is its own, else -Infinity (a miss at any threshold). */
  matedScores: number[];
}

/** TPIR and FPIR of `result` at each of `thresholds` (for a DET curve). */
export function ratesAt(
  result: Pick<IdentificationResult, 'matedScores' | 'nonMatedScores'>,
  thresholds: readonly number[],
): { threshold: number; tpir: number; fpir: number }[] {
  const share = (scores: number[], t: number) =>
    scores.filter((s) => s >= t).length / Math.max(1, scores.length);
  return thresholds.map((threshold) => ({
    threshold,
    tpir: share(result.matedScores, threshold),
    fpir: share(result.nonMatedScores, threshold),
  }));
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function bestMatch(
  probe: Float32Array,
  gallery: { identity: string; embedding: Float32Array }[],
  identity?: string,
): BestMatch {
  let best: BestMatch = { score: Number.NEGATIVE_INFINITY, correct: false };
  for (const entry of gallery) {
    const score = dot(probe, entry.embedding);
    if (score > best.score) best = { score, correct: entry.identity === identity };
  }
  return best;
}

/**
 * The false match rate at each threshold: of every comparison between a non-mated search and a
 * gallery entry (people not on the list against every listed person), the share scoring at or above
 * it. A deployment's expected false alerts follow from it for any list size: FPIR = 1 - (1 - FMR)^N.
 */
export function falseMatchRates(
  protocol: WatchlistProtocol,
  embeddings: ReadonlyMap<string, Float32Array | undefined>,
  thresholds: readonly number[],
): { comparisons: number; points: { threshold: number; fmr: number }[] } {
  const gallery = protocol.gallery.flatMap((g) => embeddings.get(g.file) ?? []);
  const sorted = [...thresholds].sort((a, b) => a - b);
  const atOrAbove = new Array<number>(sorted.length).fill(0);
  let comparisons = 0;
  for (const search of protocol.nonMated) {
    const probe = embeddings.get(search.file);
    if (!probe) continue;
    for (const entry of gallery) {
      const score = dot(probe, entry);
      comparisons++;
      for (let i = 0; i < sorted.length && score >= (sorted[i] as number); i++) (atOrAbove[i] as number)++;
    }
  }
  return {
    comparisons,
    points: sorted.map((threshold, i) => ({
      threshold,
      fmr: (atOrAbove[i] as number) / Math.max(1, comparisons),
    })),
  };
}

/** Smallest float above `value`: a threshold that `value` itself does not reach. */
function justAbove(value: number): number {
  return value + Math.max(Math.abs(value) * 1e-7, 1e-9);
}

/**
 * Rank-1 and TPIR at each FPIR for a watchlist of the first `watchlistSize` enrolled people (all when
 * absent). Embeddings are unit vectors (cosine = dot product); photos without one (no face found)
 * count against the pipeline: a mated search without one is a miss, an entry without one is
 * enrolled by nothing and a non-mated search without one raises no alert. The mated searches of
 * people left off a smaller list are non-mated searches of it.
 */
export function identificationRates(
  protocol: WatchlistProtocol,
  embeddings: ReadonlyMap<string, Float32Array | undefined>,
  fpirs: readonly number[],
  watchlistSize?: number,
): IdentificationResult {
  const listed = protocol.gallery.slice(0, watchlistSize ?? protocol.gallery.length);
  const onList = new Set(listed.map((g) => g.identity));
  const gallery = listed.flatMap((g) => {
    const embedding = embeddings.get(g.file);
    return embedding ? [{ identity: g.identity, embedding }] : [];
  });
  const mated: BestMatch[] = [];
  const nonMatedScores: number[] = [];
  for (const search of protocol.mated) {
    const probe = embeddings.get(search.file);
    if (onList.has(search.identity)) {
      mated.push(
        probe
          ? bestMatch(probe, gallery, search.identity)
          : { score: Number.NEGATIVE_INFINITY, correct: false },
      );
    } else if (probe) {
      nonMatedScores.push(bestMatch(probe, gallery).score);
    } else {
      nonMatedScores.push(Number.NEGATIVE_INFINITY);
    }
  }
  for (const search of protocol.nonMated) {
    const probe = embeddings.get(search.file);
    nonMatedScores.push(probe ? bestMatch(probe, gallery).score : Number.NEGATIVE_INFINITY);
  }
  nonMatedScores.sort((a, b) => b - a);
  const matedScores = mated.map((m) => (m.correct ? m.score : Number.NEGATIVE_INFINITY));
  const points = fpirs.map((fpir) => {
    const allowed = Math.floor(fpir * nonMatedScores.length);
    const first = nonMatedScores[allowed];
    const threshold = first === undefined || first === Number.NEGATIVE_INFINITY ? -1 : justAbove(first);
    const falseAlerts = nonMatedScores.filter((s) => s >= threshold).length;
    return {
      fpir,
      threshold,
      tpir: ratesAt({ matedScores, nonMatedScores }, [threshold])[0]?.tpir ?? 0,
      falseAlerts,
    };
  });
  return {
    watchlistSize: listed.length,
    matedSearches: mated.length,
    nonMatedSearches: nonMatedScores.length,
    rank1: mated.filter((m) => m.correct).length / Math.max(1, mated.length),
    points,
    nonMatedScores,
    matedScores,
  };
}
