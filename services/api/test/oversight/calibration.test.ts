import { describe, expect, it } from 'vitest';
import {
  calibrationReport,
  formatCalibrationReport,
  type LabelledEmbedding,
} from '../../src/oversight/calibration.js';

/**
 * A set whose scores are known exactly, whoever the shuffle puts on the list. Dimensions: one own
 * axis per identity, plus two axes U and V that every identity shares. Each identity has
 *   photo 1 = 0.8·own + 0.6·U   (enrolled when on the list)
 *   photo 2 = 0.6·own + 0.8·V
 * so a mated probe (photo 2) scores 0.48 with its own entry and 0 with any other; a non-mated
 * photo 1 scores 0.36 with every entry (through U), a non-mated photo 2 scores 0.
 */
function constructedSet(identities: number): LabelledEmbedding[] {
  const dimension = identities + 2;
  const [u, v] = [identities, identities + 1];
  const samples: LabelledEmbedding[] = [];
  for (let k = 0; k < identities; k++) {
    const first = new Array<number>(dimension).fill(0);
    first[k] = 0.8;
    first[u] = 0.6;
    const second = new Array<number>(dimension).fill(0);
    second[k] = 0.6;
    second[v] = 0.8;
    samples.push(
      { identity: `person-${k}`, embedding: first },
      { identity: `person-${k}`, embedding: second },
    );
  }
  return samples;
}

describe('threshold calibration (open-set identification)', () => {
  it('gives the exact TPIR, FPIR and FMR of a set built to have known scores', () => {
    const report = calibrationReport(constructedSet(20), {
      watchlistSize: 5,
      thresholds: [0.5, 0.1, 0.3, 0.4],
    });
    expect(report).toMatchObject({
      watchlistSize: 5,
      galleryIdentities: 5,
      matedProbes: 5,
      nonMatedIdentities: 10,
      nonMatedProbes: 20,
      nonMatedComparisons: 100,
    });
    const rows = report.rows.map((r) => [r.threshold, r.tpir, r.fpir, r.fmr]);
    expect(rows).toEqual([
      [0.1, 1, 0.5, 0.5],
      [0.3, 1, 0.5, 0.5],
      [0.4, 1, 0, 0],
      [0.5, 0, 0, 0],
    ]);
    expect(report.rows[0]?.fpirAtWatchlistSize).toBeCloseTo(1 - 0.5 ** 5, 12);
    expect(report.rows[2]?.fpirAtWatchlistSize).toBe(0);
    // What operators will see: false alerts per 1,000 and 10,000 faces of people not on the list.
    expect(report.rows[0]?.expectedFalseAlerts.per1000Faces).toBeCloseTo(1000 * (1 - 0.5 ** 5), 9);
    expect(report.rows[0]?.expectedFalseAlerts.per10000Faces).toBeCloseTo(10_000 * (1 - 0.5 ** 5), 9);
    expect(report.rows[2]?.expectedFalseAlerts).toEqual({ per1000Faces: 0, per10000Faces: 0 });
    expect(formatCalibrationReport(report)).toContain('false alerts per 1,000 / 10,000 faces');
  });

  it('enrols at most the identities the set has left after the non-mated share', () => {
    const report = calibrationReport(constructedSet(20), { watchlistSize: 10_000, thresholds: [0.3] });
    expect(report.galleryIdentities).toBe(10);
    expect(report.matedProbes).toBe(10);
    // The measured FPIR is for the 10 enrolled; the estimate is for the 10,000 asked about.
    expect(report.rows[0]?.fpir).toBe(0.5);
    expect(report.rows[0]?.fpirAtWatchlistSize).toBeCloseTo(1, 12);
  });

  it('counts a mated probe only when its own entry is the best match (rank 1)', () => {
    // person-b's second photo is closer to person-a's entry than to its own.
    const samples: LabelledEmbedding[] = [
      { identity: 'a', embedding: [1, 0, 0, 0] },
      { identity: 'a', embedding: [0.9, 0.1, 0, 0] },
      { identity: 'b', embedding: [0, 1, 0, 0] },
      { identity: 'b', embedding: [0.9, 0.5, 0, 0] },
      { identity: 'c', embedding: [0, 0, 1, 0] },
      { identity: 'd', embedding: [0, 0, 0, 1] },
    ];
    // Non-mated share so that two identities are enrolled; a, b (two photos each) go first.
    const reports = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) =>
      calibrationReport(samples, { watchlistSize: 2, thresholds: [0.1], nonMatedShare: 0.5, seed }),
    );
    for (const report of reports) {
      expect(report.galleryIdentities).toBe(2);
      // When both a and b are enrolled, b's probe matches a best: one of two mated probes is missed.
      if (report.matedProbes === 2) expect(report.rows[0]?.tpir).toBe(0.5);
    }
    expect(reports.some((r) => r.matedProbes === 2)).toBe(true);
  });

  it('rates fall as the threshold rises, on noisy clusters', () => {
    let state = 42;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31 - 0.5;
    };
    const samples: LabelledEmbedding[] = [];
    for (let k = 0; k < 60; k++) {
      const centre = Array.from({ length: 32 }, random);
      for (let i = 0; i < 3; i++)
        samples.push({ identity: `id${k}`, embedding: centre.map((x) => x + 0.15 * random()) });
    }
    const report = calibrationReport(samples, { watchlistSize: 25 });
    for (let i = 1; i < report.rows.length; i++) {
      expect(report.rows[i]!.tpir).toBeLessThanOrEqual(report.rows[i - 1]!.tpir);
      expect(report.rows[i]!.fpir).toBeLessThanOrEqual(report.rows[i - 1]!.fpir);
    }
    expect(report.rows[0]!.tpir).toBeGreaterThan(0.9);
    expect(report.rows.at(-1)!.fpir).toBe(0);
    expect(formatCalibrationReport(report)).toContain('watchlist size 25: 25 identities enrolled');
  });

  it('refuses what it cannot compute', () => {
    expect(() => calibrationReport(constructedSet(4), { watchlistSize: 0 })).toThrow(/positive integer/);
    expect(() =>
      calibrationReport(
        [
          { identity: 'a', embedding: [1, 0] },
          { identity: 'b', embedding: [1, 0, 0] },
        ],
        { watchlistSize: 1 },
      ),
    ).toThrow(/dimensions/);
    expect(() => calibrationReport([{ identity: 'a', embedding: [1, 0] }], { watchlistSize: 1 })).toThrow(
      /two identities/,
    );
  });
});
