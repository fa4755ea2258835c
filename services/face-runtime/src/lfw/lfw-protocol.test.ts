import { describe, expect, it } from 'vitest';
import {
  bestThreshold,
  parseLfwPairs,
  type ScoredPair,
  tenFoldVerification,
  trueAcceptRate,
} from './lfw-protocol.js';

describe('parseLfwPairs', () => {
  it('reads matched and mismatched pairs per fold', () => {
    const text =
      '2\t1\nAbel_Pacheco\t1\t4\nAbdel_Madi_Shabneh\t1\tDean_Barker\t1\nAJ_Cook\t2\t3\nA\t1\tB\t12\n';
    const pairs = parseLfwPairs(text);
    expect(pairs).toEqual([
      {
        fold: 0,
        same: true,
        first: 'Abel_Pacheco/Abel_Pacheco_0001.jpg',
        second: 'Abel_Pacheco/Abel_Pacheco_0004.jpg',
      },
      {
        fold: 0,
        same: false,
        first: 'Abdel_Madi_Shabneh/Abdel_Madi_Shabneh_0001.jpg',
        second: 'Dean_Barker/Dean_Barker_0001.jpg',
      },
      { fold: 1, same: true, first: 'AJ_Cook/AJ_Cook_0002.jpg', second: 'AJ_Cook/AJ_Cook_0003.jpg' },
      { fold: 1, same: false, first: 'A/A_0001.jpg', second: 'B/B_0012.jpg' },
    ]);
  });

  it('rejects a file whose pair count does not match its header', () => {
    expect(() => parseLfwPairs('10\t300\nA\t1\t2\n')).toThrow(/expected 6000/);
  });
});

describe('bestThreshold', () => {
  it('separates perfectly separable scores between the classes', () => {
    const t = bestThreshold([
      { same: true, similarity: 0.9 },
      { same: true, similarity: 0.8 },
      { same: false, similarity: 0.3 },
      { same: false, similarity: 0.5 },
    ]);
    expect(t).toBeGreaterThan(0.5);
    expect(t).toBeLessThanOrEqual(0.8);
  });

  it('keeps tied scores on the same side', () => {
    const t = bestThreshold([
      { same: true, similarity: 0.7 },
      { same: false, similarity: 0.7 },
      { same: true, similarity: 0.9 },
      { same: false, similarity: 0.1 },
    ]);
    const correct = [0.7, 0.7, 0.9, 0.1]
      .map((s, i) => s >= t === [true, false, true, false][i])
      .filter(Boolean).length;
    expect(correct).toBe(3);
  });
});

describe('tenFoldVerification', () => {
  it('chooses each fold threshold on the other folds and reports mean and std', () => {
    const pairs: ScoredPair[] = [];
    for (let fold = 0; fold < 10; fold++) {
      for (let i = 0; i < 10; i++) {
        pairs.push({ fold, same: true, similarity: 0.6 + i * 0.01 });
        pairs.push({ fold, same: false, similarity: 0.2 + i * 0.01 });
      }
    }
    // One fold holds a same-person pair scored like a stranger: only that fold loses accuracy.
    pairs.push({ fold: 3, same: true, similarity: 0.1 });
    const result = tenFoldVerification(pairs);
    expect(result.folds).toHaveLength(10);
    expect(result.folds[3]?.accuracy).toBeCloseTo(20 / 21, 9);
    expect(result.folds[0]?.accuracy).toBe(1);
    expect(result.accuracy).toBeCloseTo((9 + 20 / 21) / 10, 9);
    expect(result.std).toBeGreaterThan(0);
    expect(result.threshold).toBeGreaterThan(0.29);
    expect(result.threshold).toBeLessThan(0.6);
  });
});

describe('trueAcceptRate', () => {
  it('accepts only genuine pairs above the allowed impostors', () => {
    const pairs: ScoredPair[] = [];
    for (let i = 0; i < 100; i++) pairs.push({ fold: 0, same: false, similarity: i / 100 });
    pairs.push({ fold: 0, same: true, similarity: 0.995 }, { fold: 0, same: true, similarity: 0.985 });
    // 1% of 100 impostors: one (0.99) may pass; 0.985 < 0.98 + eps? no: it passes, 0.98 does not.
    const { tar, threshold } = trueAcceptRate(pairs, 0.01);
    expect(threshold).toBeCloseTo(0.98, 6);
    expect(tar).toBe(1);
  });
});
