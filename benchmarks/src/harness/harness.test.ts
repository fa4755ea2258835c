import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderSvg, writeChartPng } from './chart.js';
import { detCurve, thresholdForFpir, thresholdGrid } from './det.js';
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

describe('DET and operating points', () => {
  const points = [
    { threshold: 0.2, tpir: 0.99, fpir: 0.5 },
    { threshold: 0.4, tpir: 0.95, fpir: 0.01 },
    { threshold: 0.5, tpir: 0.9, fpir: 0.01 },
    { threshold: 0.6, tpir: 0.8, fpir: 0 },
    { threshold: 0.7, tpir: 0.6, fpir: 0 },
  ];

  it('turns TPIR into FNIR, drops FPIR 0 (no place on a log axis) and keeps the best FNIR per FPIR', () => {
    expect(detCurve(points)).toEqual([
      [0.01, 1 - 0.95],
      [0.5, 1 - 0.99],
    ]);
  });

  it('picks the lowest threshold within the FPIR target and says whether the data resolve it', () => {
    expect(thresholdForFpir(points, 0.02, 1000)).toEqual({
      threshold: 0.4,
      tpir: 0.95,
      fpir: 0.01,
      resolved: true,
    });
    expect(thresholdForFpir(points, 1 / 6000, 1000)).toEqual({
      threshold: 0.6,
      tpir: 0.8,
      fpir: 0,
      resolved: false,
    });
    expect(thresholdForFpir(points, 1 / 6000, 12000)?.resolved).toBe(true);
    expect(thresholdForFpir([{ threshold: 0.9, tpir: 0.1, fpir: 0.2 }], 0.01, 100)).toBeUndefined();
  });

  it('spaces a threshold grid evenly, ends included', () => {
    expect(thresholdGrid(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
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
