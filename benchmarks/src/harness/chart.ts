import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** One line of a line chart. */
export interface Series {
  name: string;
  points: [number, number][];
  /** Dashed, for a reference or target rather than a measurement. */
  dashed?: boolean;
}

/** A line chart over numeric axes, either of which may be logarithmic. */
export interface LineChart {
  kind: 'line';
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xLog?: boolean;
  yLog?: boolean;
  /** Fixed axis ranges; by default the data's range. */
  xRange?: [number, number];
  yRange?: [number, number];
}

/** Grouped bars: one group per category, one bar per series. */
export interface BarChart {
  kind: 'bar';
  title: string;
  yLabel: string;
  categories: string[];
  series: { name: string; values: number[] }[];
  yLog?: boolean;
}

export type Chart = LineChart | BarChart;

const WIDTH = 900;
const HEIGHT = 540;
const MARGIN = { left: 90, right: 30, top: 50, bottom: 110 };
/** Colour-blind-safe palette (Okabe-Ito). */
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toPrecision(3)}k`;
  if (abs < 0.001) return value.toExponential(0);
  return `${+value.toPrecision(3)}`;
}

/** An axis: value -> pixel, and the tick values to label. */
function axis(range: [number, number], log: boolean, from: number, to: number) {
  let [low, high] = range;
  if (log) {
    low = Math.log10(Math.max(low, Number.MIN_VALUE));
    high = Math.log10(Math.max(high, Number.MIN_VALUE));
  }
  if (high === low) {
    high += log ? 1 : Math.abs(high) * 0.1 || 1;
    low -= log ? 1 : 0;
  }
  const map = (v: number) => {
    const value = log ? Math.log10(Math.max(v, 10 ** low)) : v;
    return from + ((value - low) / (high - low)) * (to - from);
  };
  const ticks: number[] = [];
  if (log) {
    for (let e = Math.floor(low); e <= Math.ceil(high); e++)
      if (e >= low - 1e-9 && e <= high + 1e-9) ticks.push(10 ** e);
  } else {
    const step = 10 ** Math.floor(Math.log10((high - low) / 5));
    const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (high - low) / s <= 8) ?? step * 10;
    for (let v = Math.ceil(low / nice) * nice; v <= high + 1e-9; v += nice) ticks.push(+v.toPrecision(12));
  }
  return { map, ticks };
}

function extent(values: number[], log: boolean): [number, number] {
  const usable = log ? values.filter((v) => v > 0) : values;
  if (usable.length === 0) return [log ? 1 : 0, log ? 10 : 1];
  return [Math.min(...usable), Math.max(...usable)];
}

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="30" font-size="18" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - MARGIN.bottom + 45}" font-size="14" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(22 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" font-size="14" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function legend(names: { name: string; dashed?: boolean }[]): string[] {
  const out: string[] = [];
  let x = MARGIN.left;
  let y = HEIGHT - 35;
  names.forEach((entry, i) => {
    const width = 40 + entry.name.length * 7.5;
    if (x + width > WIDTH - MARGIN.right) {
      x = MARGIN.left;
      y += 18;
    }
    const colour = COLOURS[i % COLOURS.length];
    out.push(
      `<line x1="${x}" y1="${y - 5}" x2="${x + 25}" y2="${y - 5}" stroke="${colour}" stroke-width="3"${entry.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${x + 30}" y="${y}" font-size="12">${escapeXml(entry.name)}</text>`,
    );
    x += width;
  });
  return out;
}

/** The chart as an SVG document. */
export function renderSvg(chart: Chart): string {
  const plotLeft = MARGIN.left;
  const plotRight = WIDTH - MARGIN.right;
  const plotTop = MARGIN.top;
  const plotBottom = HEIGHT - MARGIN.bottom;
  const body: string[] = [];
  if (chart.kind === 'line') {
    const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
    const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
    const x = axis(chart.xRange ?? extent(xs, !!chart.xLog), !!chart.xLog, plotLeft, plotRight);
    const y = axis(chart.yRange ?? extent(ys, !!chart.yLog), !!chart.yLog, plotBottom, plotTop);
    for (const t of x.ticks) {
      const px = x.map(t);
      body.push(
        `<line x1="${px}" y1="${plotTop}" x2="${px}" y2="${plotBottom}" stroke="#e0e0e0"/>`,
        `<text x="${px}" y="${plotBottom + 18}" font-size="12" text-anchor="middle">${formatTick(t)}</text>`,
      );
    }
    for (const t of y.ticks) {
      const py = y.map(t);
      body.push(
        `<line x1="${plotLeft}" y1="${py}" x2="${plotRight}" y2="${py}" stroke="#e0e0e0"/>`,
        `<text x="${plotLeft - 8}" y="${py + 4}" font-size="12" text-anchor="end">${formatTick(t)}</text>`,
      );
    }
    chart.series.forEach((series, i) => {
      const colour = COLOURS[i % COLOURS.length];
      const usable = series.points.filter(
        ([px, py]) =>
          Number.isFinite(px) && Number.isFinite(py) && (!chart.xLog || px > 0) && (!chart.yLog || py > 0),
      );
      if (usable.length === 0) return;
      const d = usable
        .map(([px, py], k) => `${k === 0 ? 'M' : 'L'}${x.map(px).toFixed(1)},${y.map(py).toFixed(1)}`)
        .join(' ');
      body.push(
        `<path d="${d}" fill="none" stroke="${colour}" stroke-width="2.5"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      if (usable.length <= 30) {
        for (const [px, py] of usable) {
          body.push(
            `<circle cx="${x.map(px).toFixed(1)}" cy="${y.map(py).toFixed(1)}" r="4" fill="${colour}"/>`,
          );
        }
      }
    });
    body.push(
      `<rect x="${plotLeft}" y="${plotTop}" width="${plotRight - plotLeft}" height="${plotBottom - plotTop}" fill="none" stroke="#333"/>`,
    );
    body.push(...legend(chart.series));
    return frame(chart.title, chart.xLabel, chart.yLabel, body);
  }
  const values = chart.series.flatMap((s) => s.values);
  const [low, high] = extent(values, !!chart.yLog);
  // Head-room for the value labels, and on a log axis room below the smallest bar so it shows.
  const y = axis(chart.yLog ? [low / 2, high * 1.5] : [0, high * 1.1], !!chart.yLog, plotBottom, plotTop);
  for (const t of y.ticks) {
    const py = y.map(t);
    body.push(
      `<line x1="${plotLeft}" y1="${py}" x2="${plotRight}" y2="${py}" stroke="#e0e0e0"/>`,
      `<text x="${plotLeft - 8}" y="${py + 4}" font-size="12" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  const groupWidth = (plotRight - plotLeft) / Math.max(1, chart.categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, chart.series.length);
  chart.categories.forEach((category, c) => {
    const groupLeft = plotLeft + c * groupWidth + groupWidth * 0.1;
    chart.series.forEach((series, s) => {
      const value = series.values[c];
      if (value === undefined || !Number.isFinite(value) || (chart.yLog && value <= 0)) return;
      const top = y.map(value);
      const base = chart.yLog ? plotBottom : y.map(0);
      body.push(
        `<rect x="${(groupLeft + s * barWidth).toFixed(1)}" y="${Math.min(top, base).toFixed(1)}" width="${(barWidth * 0.92).toFixed(1)}" height="${Math.abs(base - top).toFixed(1)}" fill="${COLOURS[s % COLOURS.length]}"/>`,
        `<text x="${(groupLeft + s * barWidth + barWidth * 0.46).toFixed(1)}" y="${(Math.min(top, base) - 4).toFixed(1)}" font-size="11" text-anchor="middle">${formatTick(value)}</text>`,
      );
    });
    body.push(
      `<text x="${(groupLeft + groupWidth * 0.4).toFixed(1)}" y="${plotBottom + 18}" font-size="12" text-anchor="middle">${escapeXml(category)}</text>`,
    );
  });
  body.push(
    `<rect x="${plotLeft}" y="${plotTop}" width="${plotRight - plotLeft}" height="${plotBottom - plotTop}" fill="none" stroke="#333"/>`,
  );
  body.push(...legend(chart.series));
  return frame(chart.title, '', chart.yLabel, body);
}

/** Renders `chart` to a PNG file (SVG drawn by sharp's librsvg: no browser). */
export async function writeChartPng(chart: Chart, file: string): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(renderSvg(chart)))
    .png()
    .toFile(file);
}
