import { ValidationError } from '@vigil/core';

/** One LFW pair: two image paths relative to the image folder, the fold it belongs to, and the truth. */
export interface LfwPair {
  fold: number;
  same: boolean;
  first: string;
  second: string;
}

/**
 * Parses LFW's `pairs.txt` (View 2): a header `folds pairsPerSet`, then per fold that many matched
 * lines `name n1 n2` followed by as many mismatched lines `name1 n1 name2 n2`. Paths are
 * `name/name_000n.jpg`.
 */
export function parseLfwPairs(text: string): LfwPair[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const [folds, perSet] = (lines[0] ?? '').split(/\s+/).map(Number);
  if (!folds || !perSet || !Number.isInteger(folds) || !Number.isInteger(perSet)) {
    throw new ValidationError('pairs.txt must start with "<folds> <pairs per set>"', 'invalid_pairs');
  }
  if (lines.length - 1 !== folds * perSet * 2) {
    throw new ValidationError(
      `pairs.txt has ${lines.length - 1} pairs, expected ${folds * perSet * 2}`,
      'invalid_pairs',
    );
  }
  const file = (name: string, n: string) => `${name}/${name}_${n.padStart(4, '0')}.jpg`;
  return lines.slice(1).map((line, i) => {
    const fold = Math.floor(i / (perSet * 2));
    const same = i % (perSet * 2) < perSet;
    const parts = line.split(/\s+/);
    if (same && parts.length === 3) {
      const [name, a, b] = parts as [string, string, string];
      return { fold, same, first: file(name, a), second: file(name, b) };
    }
    if (!same && parts.length === 4) {
      const [nameA, a, nameB, b] = parts as [string, string, string, string];
      return { fold, same, first: file(nameA, a), second: file(nameB, b) };
    }
    throw new ValidationError(`pairs.txt line ${i + 2} is malformed: ${line}`, 'invalid_pairs');
  });
}

/** A scored pair: similarity of the two faces and whether they are the same person. */
export interface ScoredPair {
  fold: number;
  same: boolean;
  similarity: number;
}

/** Result of the 10-fold protocol. */
export interface VerificationResult {
  /** Mean of the per-fold test accuracies. */
  accuracy: number;
  /** Sample standard deviation of the per-fold accuracies. */
  std: number;
  /** Mean of the per-fold thresholds (each chosen on the other folds). */
  threshold: number;
  folds: { fold: number; accuracy: number; threshold: number }[];
}

/**
 * The threshold that classifies `pairs` best ("same" when similarity >= threshold), ties broken
 * toward the middle of the best interval.
 */
export function bestThreshold(pairs: readonly { same: boolean; similarity: number }[]): number {
  const sorted = [...pairs].sort((a, b) => a.similarity - b.similarity);
  // With the threshold above everything, every pair is called different.
  let correct = sorted.filter((p) => !p.same).length;
  let best = correct;
  let bestLow = sorted.length > 0 ? (sorted[sorted.length - 1] as ScoredPair).similarity + 1e-6 : 0;
  let bestHigh = bestLow;
  // Lower the threshold past each pair in descending order: that pair becomes "same".
  for (let i = sorted.length - 1; i >= 0; i--) {
    const pair = sorted[i] as ScoredPair;
    correct += pair.same ? 1 : -1;
    const next = i > 0 ? (sorted[i - 1] as ScoredPair).similarity : pair.similarity - 1e-6;
    if (next === pair.similarity) continue;
    if (correct > best) {
      best = correct;
      bestLow = next;
      bestHigh = pair.similarity;
    }
  }
  return (bestLow + bestHigh) / 2;
}

/** LFW's View 2 protocol: for each fold, choose the threshold on the other folds and test on it. */
export function tenFoldVerification(pairs: readonly ScoredPair[]): VerificationResult {
  const foldIds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  if (foldIds.length < 2)
    throw new ValidationError('cross-validation needs at least two folds', 'invalid_pairs');
  const folds = foldIds.map((fold) => {
    const threshold = bestThreshold(pairs.filter((p) => p.fold !== fold));
    const test = pairs.filter((p) => p.fold === fold);
    const correct = test.filter((p) => p.similarity >= threshold === p.same).length;
    return { fold, accuracy: correct / test.length, threshold };
  });
  const accuracy = folds.reduce((s, f) => s + f.accuracy, 0) / folds.length;
  const variance = folds.reduce((s, f) => s + (f.accuracy - accuracy) ** 2, 0) / (folds.length - 1);
  const threshold = folds.reduce((s, f) => s + f.threshold, 0) / folds.length;
  return { accuracy, std: Math.sqrt(variance), threshold, folds };
}

/**
 * True accept rate at the threshold where at most `far` of the different-person pairs are accepted
 * (all folds pooled).
 */
export function trueAcceptRate(
  pairs: readonly ScoredPair[],
  far: number,
): { tar: number; threshold: number } {
  const impostors = pairs
    .filter((p) => !p.same)
    .map((p) => p.similarity)
    .sort((a, b) => b - a);
  const genuine = pairs.filter((p) => p.same);
  const allowed = Math.floor(far * impostors.length);
  // Accept strictly above the (allowed+1)-th highest impostor score.
  const threshold = impostors.length > allowed ? (impostors[allowed] as number) + 1e-9 : -1;
  const accepted = genuine.filter((p) => p.similarity >= threshold).length;
  return { tar: genuine.length > 0 ? accepted / genuine.length : 0, threshold };
}
