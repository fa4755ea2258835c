import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderSvg, writeChartPng } from './chart.js';
import {
  identificationCurve,
  operatingPointAt,
  type Search,
  thresholdForFpir,
  topOne,
} from './identification.js';
import { summaryTable } from './report.js';
import { median, percentile, randomUnitVector, seededRandom, summarise } from './statistics.js';

describe('statistics', () => {
  it('interpolates percentiles between ranks (type 7)', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(sorted, 50)).toBeCloseTo(5.5);
    expect(percentile(sorted, 95)).toBeCloseTo(9.55);
    expect(percentile(sorted, 99)).toBeCloseTo(9.91);
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 100)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarises unsorted samples with the sample standard deviation', () => {
    const s = summarise([4, 2, 8, 6]);
    expect(s).toMatchObject({ n: 4, mean: 5, min: 2, max: 8, p50: 5 });
    expect(s.std).toBeCloseTo(Math.sqrt(20 / 3));
    expect(median([3, 1, 2])).toBe(2);
  });

  it('draws the same unit vectors from the same seed', () => {
    const a = randomUnitVector(128, seededRandom(7));
    const b = randomUnitVector(128, seededRandom(7));
    const c = randomUnitVector(128, seededRandom(8));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
  });
});

describe('identification (TPIR / FPIR)', () => {
  const searches: Search[] = [
    { mated: true, score: 0.9, correct: true },
    { mated: true, score: 0.7, correct: true },
    { mated: true, score: 0.8, correct: false }, // the top candidate is someone else: never a hit
    { mated: true, score: undefined, correct: false }, // no face found: a miss
    { mated: false, score: 0.75, correct: false },
    { mated: false, score: 0.5, correct: false },
    { mated: false, score: undefined, correct: false },
    { mated: false, score: 0.3, correct: false },
  ];

  it('counts rank-1 hits over all mated searches and top scores over all non-mated searches', () => {
    expect(operatingPointAt(searches, 0.72)).toEqual({ threshold: 0.72, tpir: 0.25, fpir: 0.25 });
    expect(operatingPointAt(searches, 0.6)).toEqual({ threshold: 0.6, tpir: 0.5, fpir: 0.25 });
    expect(operatingPointAt(searches, 0)).toEqual({ threshold: 0, tpir: 0.5, fpir: 0.75 });
  });

  it('gives a point for every distinct score with FPIR and TPIR never falling as the threshold drops', () => {
    const curve = identificationCurve(searches);
    expect(curve.mated).toBe(4);
    expect(curve.nonMated).toBe(4);
    expect(curve.points.map((p) => p.threshold)).toEqual([0.9, 0.75, 0.7, 0.5, 0.3]);
    expect(curve.points.map((p) => p.tpir)).toEqual([0.25, 0.25, 0.5, 0.5, 0.5]);
    expect(curve.points.map((p) => p.fpir)).toEqual([0, 0.25, 0.25, 0.5, 0.75]);
  });

  it('finds the lowest threshold within an FPIR target, and says when the data cannot resolve it', () => {
    const half = thresholdForFpir(searches, 0.5);
    // Two of four false positives allowed: just above the third-highest non-mated score.
    expect(half.fpir).toBe(0.5);
    expect(half.tpir).toBe(0.5);
    expect(half.threshold).toBeCloseTo(0.3 + 1e-6);
    expect(half.resolved).toBe(true);
    const strict = thresholdForFpir(searches, 1 / 6000);
    expect(strict.fpir).toBe(0);
    expect(strict.tpir).toBe(0.25);
    expect(strict.resolved).toBe(false);
  });

  it("finds each probe's nearest gallery vector by inner product", () => {
    const gallery = new Float32Array([1, 0, 0, 1, Math.SQRT1_2, Math.SQRT1_2]);
    const probes = new Float32Array([0, 1, 0.8, 0.6]);
    const { index, score } = topOne(gallery, probes, 2);
    expect(Array.from(index)).toEqual([1, 2]);
    expect(score[0]).toBeCloseTo(1);
    expect(score[1]).toBeCloseTo(1.4 * Math.SQRT1_2);
  });
});

describe('charts and report', () => {
  it('writes a PNG of a log-scale line chart with its legend', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-chart-')), 'det.png');
    const chart = {
      kind: 'line' as const,
      title: 'DET <test>',
      xLabel: 'FPIR',
      yLabel: 'FNIR',
      xLog: true,
      yLog: true,
      series: [
        {
          name: 'default',
          points: [
            [1e-4, 0.2],
            [1e-2, 0.05],
            [1, 0.01],
          ] as [number, number][],
        },
      ],
    };
    expect(renderSvg(chart)).toContain('DET &lt;test&gt;');
    await writeChartPng(chart, file);
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(900);
    // Not a blank canvas: the line and text leave non-white pixels.
    const stats = await sharp(bytes).stats();
    expect(stats.channels[0]?.min).toBeLessThan(100);
  });

  it('writes a PNG of a bar chart', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-chart-')), 'bars.png');
    await writeChartPng(
      {
        kind: 'bar',
        title: 'speed',
        yLabel: 'ms',
        categories: ['detect', 'embed'],
        series: [{ name: 'vigil', values: [10, 3] }],
      },
      file,
    );
    expect((await sharp(file).metadata()).format).toBe('png');
  });

  it('renders a summary table row per figure, escaping pipes', () => {
    const table = summaryTable([
      {
        name: 'matching',
        title: 't',
        mode: 'quick',
        startedAt: '',
        durationSeconds: 1,
        machine: { cpu: '', cores: 2, memoryGiB: 1, os: '', loadAverage: 0, node: '', versions: {} },
        status: 'ok',
        summary: [{ metric: 'p99 | 10k', value: '3 ms', reference: 'exact', note: 'met' }],
        notes: [],
        data: {},
        charts: [],
      },
    ]);
    expect(table.split('\n')).toHaveLength(3);
    expect(table).toContain('| matching | p99 \\| 10k | 3 ms | exact | met |');
  });
});
