import type { Point } from '@vigil/core';
import { describe, expect, it } from 'vitest';
import {
  type Affine,
  applyAffine,
  cropView,
  invertAffine,
  iou,
  placementInverse,
  similarityTransform,
  warpAffine,
} from './face-geometry.js';

const ARCFACE: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

describe('similarityTransform', () => {
  it('recovers a known rotation, scale and translation exactly', () => {
    const angle = 0.3;
    const scale = 2.5;
    const known: Affine = [
      scale * Math.cos(angle),
      -scale * Math.sin(angle),
      40,
      scale * Math.sin(angle),
      scale * Math.cos(angle),
      -7,
    ];
    const moved = ARCFACE.map((p) => applyAffine(known, p));
    const found = similarityTransform(ARCFACE, moved);
    for (const [i, v] of found.entries()) expect(v).toBeCloseTo(known[i] as number, 6);
  });

  it('gives the least-squares fit for noisy points and never a reflection', () => {
    const mirrored = ARCFACE.map(([x, y]): Point => [200 - x, y]);
    const m = similarityTransform(ARCFACE, mirrored);
    // A similarity keeps orientation: the determinant stays positive.
    expect(m[0] * m[4] - m[1] * m[3]).toBeGreaterThanOrEqual(0);
  });

  it('rejects coincident source points', () => {
    expect(() =>
      similarityTransform(
        [
          [1, 1],
          [1, 1],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ),
    ).toThrow(RangeError);
  });
});

describe('invertAffine', () => {
  it('undoes the map', () => {
    const m: Affine = [1.2, -0.4, 10, 0.4, 1.2, -3];
    const back = applyAffine(invertAffine(m), applyAffine(m, [17, 29]));
    expect(back[0]).toBeCloseTo(17, 9);
    expect(back[1]).toBeCloseTo(29, 9);
  });
});

/** Bilinear sampling written out pixel by pixel, outside pixels black: what warpAffine must give. */
function referenceWarp(
  source: { data: Uint8Array; width: number; height: number },
  [a, b, c, d, e, f]: Affine,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const { data, width, height } = source;
  const at = (x: number, y: number, ch: number): number =>
    x >= 0 && y >= 0 && x < width && y < height ? (data[(y * width + x) * 3 + ch] as number) : 0;
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const sx = a * x + b * y + c;
      const sy = d * x + e * y + f;
      if (sx <= -1 || sy <= -1 || sx >= width || sy >= height) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      for (let ch = 0; ch < 3; ch++) {
        const top = at(x0, y0, ch) + (at(x0 + 1, y0, ch) - at(x0, y0, ch)) * (sx - x0);
        const bottom = at(x0, y0 + 1, ch) + (at(x0 + 1, y0 + 1, ch) - at(x0, y0 + 1, ch)) * (sx - x0);
        out[(y * outWidth + x) * 3 + ch] = Math.round(top + (bottom - top) * (sy - y0));
      }
    }
  }
  return out;
}

function largestDifference(a: Uint8Array, b: Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe('warpAffine', () => {
  const source = { width: 4, height: 3, data: new Uint8Array(4 * 3 * 3) };
  for (let i = 0; i < 12; i++) source.data.set([i * 10, 255 - i * 10, i], i * 3);

  it('copies pixels under the identity and fills outside with black', () => {
    const out = warpAffine(source, [1, 0, 1, 0, 1, 0], 4, 3);
    // Output (0,0) samples source (1,0); output (3,0) falls outside.
    expect(Array.from(out.subarray(0, 3))).toEqual([10, 245, 1]);
    expect(Array.from(out.subarray(9, 12))).toEqual([0, 0, 0]);
  });

  it('interpolates bilinearly between pixels', () => {
    const out = warpAffine(source, [1, 0, 0.5, 0, 1, 0], 1, 1);
    expect(Array.from(out)).toEqual([5, 250, 1]);
  });

  it('resizes with half-pixel centres', () => {
    // Halving: output pixel 0 covers source pixels 0 and 1, centred at 0.5.
    const out = warpAffine(source, placementInverse(0.5, 0, 0), 2, 1);
    expect(out[0]).toBe(Math.round((0 + 10 + 40 + 50) / 4));
  });

  it('samples a resize exactly as the general warp does, edges and black border included', () => {
    const width = 37;
    const height = 23;
    const big = { width, height, data: new Uint8Array(width * height * 3) };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 7919) % 256;
    for (const [scale, left, top, w, h] of [
      [0.37, 0, 0, 16, 10],
      [1.7, 5.5, -3.25, 70, 40],
      [0.5, 12, 4, 40, 30],
    ] as const) {
      const inverse = placementInverse(scale, left, top);
      const fast = warpAffine(big, inverse, w, h);
      // A rotation too small to move any sample forces the general per-pixel path.
      const general = warpAffine(big, [inverse[0], 1e-13, inverse[2], 1e-13, inverse[4], inverse[5]], w, h);
      expect(largestDifference(fast, general)).toBeLessThanOrEqual(1);
      expect(largestDifference(fast, referenceWarp(big, inverse, w, h))).toBeLessThanOrEqual(1);
    }
  });

  it('matches pixel-by-pixel bilinear sampling on rotations, inside and across the edges', () => {
    const width = 41;
    const height = 29;
    const big = { width, height, data: new Uint8Array(width * height * 3) };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 104729) % 256;
    for (const angle of [0.1, -0.7, 2.5]) {
      for (const [scale, shiftX, shiftY] of [
        [0.8, 3.3, 2.1],
        [1.9, -6.2, -4.7],
      ] as const) {
        const inverse: Affine = [
          scale * Math.cos(angle),
          -scale * Math.sin(angle),
          shiftX + width / 2,
          scale * Math.sin(angle),
          scale * Math.cos(angle),
          shiftY + height / 2,
        ];
        // The general path steps to each position by adding, the reference multiplies: a last-bit
        // difference may round one level apart.
        const out = warpAffine(big, inverse, 30, 20);
        expect(largestDifference(out, referenceWarp(big, inverse, 30, 20))).toBeLessThanOrEqual(1);
      }
    }
  });

  it('cuts a box out by whole pixels exactly, black where it leaves the image', () => {
    const width = 13;
    const height = 9;
    const big = { width, height, data: new Uint8Array(width * height * 3) };
    for (let i = 0; i < big.data.length; i++) big.data[i] = (i * 31) % 256;
    for (const [x, y, w, h] of [
      [2, 3, 6, 4],
      [-3, -2, 8, 7],
      [9, 6, 10, 10],
      [20, 0, 3, 3],
    ] as const) {
      const cut = warpAffine(big, [1, 0, x, 0, 1, y], w, h);
      expect(Array.from(cut)).toEqual(Array.from(referenceWarp(big, [1, 0, x, 0, 1, y], w, h)));
    }
  });
});

describe('iou', () => {
  it('is 1 for the same box, 0 for disjoint ones and 1/3 for half-overlapping squares', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(1 / 3, 9);
  });
});

describe('cropView', () => {
  const side = 6;
  const crop = new Uint8Array(side * side * 3);
  for (let i = 0; i < crop.length; i++) crop[i] = (i * 37) % 251;
  const pixel = (image: Uint8Array, x: number, y: number) =>
    Array.from(image.subarray((y * side + x) * 3, (y * side + x) * 3 + 3));

  it('turns a crop clockwise about its centre: a quarter turn moves each pixel exactly', () => {
    const turned = cropView(crop, side, side, { degrees: 90, zoom: 1 });
    // Clockwise in image coordinates (y down): the top-left pixel goes to the top-right.
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) expect(pixel(turned, side - 1 - y, x)).toEqual(pixel(crop, x, y));
    }
  });

  it('zooms about the centre and shifts by fractions of the crop, black outside', () => {
    const zoomed = cropView(crop, side, side, { degrees: 0, zoom: 2 });
    // Zoom 2 about (2.5, 2.5): view pixel 2 samples crop position 2.25, between 2 and 3.
    const expected = pixel(crop, 2, 2).map((v, c) => {
      const right = pixel(crop, 3, 2)[c] as number;
      const below = pixel(crop, 2, 3)[c] as number;
      const diagonal = pixel(crop, 3, 3)[c] as number;
      return Math.round(0.75 * (0.75 * v + 0.25 * right) + 0.25 * (0.75 * below + 0.25 * diagonal));
    });
    expect(pixel(zoomed, 2, 2)).toEqual(expected);
    const shifted = cropView(crop, side, side, { degrees: 0, zoom: 1, shift: [1 / side, 0] });
    for (let x = 1; x < side; x++) expect(pixel(shifted, x, 4)).toEqual(pixel(crop, x - 1, 4));
    expect(pixel(shifted, 0, 4)).toEqual([0, 0, 0]);
    expect(Array.from(cropView(crop, side, side, { degrees: 0, zoom: 1 }))).toEqual(Array.from(crop));
  });
});
