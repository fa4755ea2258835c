import type { Point } from '@vigil/core';
import type { FaceView } from '../profiles/manifest.js';

/** A 2x3 affine map: (x, y) -> (a x + b y + c, d x + e y + f). */
export type Affine = [a: number, b: number, c: number, d: number, e: number, f: number];

/**
 * The least-squares similarity transform (rotation, uniform scale, translation; no reflection)
 * taking `from` onto `to`: Umeyama (1991) in closed form for two dimensions.
 */
export function similarityTransform(from: readonly Point[], to: readonly Point[]): Affine {
  const n = from.length;
  if (n < 2 || n !== to.length) throw new RangeError('need at least two matching point pairs');
  let fx = 0;
  let fy = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    fx += (from[i] as Point)[0];
    fy += (from[i] as Point)[1];
    tx += (to[i] as Point)[0];
    ty += (to[i] as Point)[1];
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let variance = 0;
  let dot = 0;
  let cross = 0;
  for (let i = 0; i < n; i++) {
    const px = (from[i] as Point)[0] - fx;
    const py = (from[i] as Point)[1] - fy;
    const qx = (to[i] as Point)[0] - tx;
    const qy = (to[i] as Point)[1] - ty;
    variance += px * px + py * py;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
  }
  if (variance === 0) throw new RangeError('the source points coincide');
  const a = dot / variance;
  const b = cross / variance;
  return [a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy)];
}

/** The inverse of an invertible affine map. */
export function invertAffine(m: Affine): Affine {
  const [a, b, c, d, e, f] = m;
  const det = a * e - b * d;
  if (det === 0) throw new RangeError('the affine map is singular');
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}

/**
 * A view of an aligned crop (interleaved RGB): turned by `view.degrees` (clockwise) and zoomed by
 * `view.zoom` about its centre, then shifted by `view.shift` (fractions of the crop); what falls
 * outside the crop is black, as in dlib's `jitter_image`.
 */
export function cropView(crop: Uint8Array, width: number, height: number, view: FaceView): Uint8Array {
  const radians = (view.degrees * Math.PI) / 180;
  const cos = view.zoom * Math.cos(radians);
  const sin = view.zoom * Math.sin(radians);
  const [shiftX, shiftY] = view.shift ?? [0, 0];
  // Pixel centres at integers: the centre of the crop is ((width - 1) / 2, (height - 1) / 2).
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const toView: Affine = [
    cos,
    -sin,
    cx - cos * cx + sin * cy + shiftX * width,
    sin,
    cos,
    cy - sin * cx - cos * cy + shiftY * height,
  ];
  return warpAffine({ data: crop, width, height }, invertAffine(toView), width, height);
}

/** Applies an affine map to a point. */
export function applyAffine(m: Affine, point: Point): Point {
  return [m[0] * point[0] + m[1] * point[1] + m[2], m[3] * point[0] + m[4] * point[1] + m[5]];
}

/**
 * Samples an `outWidth` x `outHeight` RGB image from `source` (interleaved RGB) by bilinear
 * interpolation, where `inverse` maps each output pixel to its source position (pixel centres at
 * integer coordinates, as OpenCV's warpAffine). Pixels that fall outside the source are black.
 * Samples round half up (`(v + 0.5) | 0`: Math.round for these non-negative values, and several
 * times faster in V8, where Math.round was half of the detector's pre-processing time).
 */
export function warpAffine(
  source: { data: Uint8Array; width: number; height: number },
  inverse: Affine,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const [a, b, c, d, e, f] = inverse;
  if (a === 1 && b === 0 && d === 0 && e === 1 && Number.isInteger(c) && Number.isInteger(f)) {
    return shiftCopy(source, c, f, outWidth, outHeight);
  }
  if (b === 0 && d === 0) return resizeBilinear(source, a, c, e, f, outWidth, outHeight);
  const out = new Uint8Array(outWidth * outHeight * 3);
  const { data, width, height } = source;
  const stride = width * 3;
  for (let y = 0; y < outHeight; y++) {
    let sx = b * y + c;
    let sy = e * y + f;
    let o = y * outWidth * 3;
    for (let x = 0; x < outWidth; x++, sx += a, sy += d, o += 3) {
      if (sx <= -1 || sy <= -1 || sx >= width || sy >= height) continue;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const wx = sx - x0;
      const wy = sy - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        // All four neighbours inside (nearly every pixel of a face chip): the same arithmetic
        // without the per-channel edge tests.
        const i00 = y0 * stride + x0 * 3;
        sampleInside(data, i00, i00 + stride, wx, wy, out, o);
        continue;
      }
      const inX0 = x0 >= 0;
      const inX1 = x0 + 1 < width;
      const inY0 = y0 >= 0;
      const inY1 = y0 + 1 < height;
      const i00 = y0 * stride + x0 * 3;
      for (let ch = 0; ch < 3; ch++) {
        const p00 = inY0 && inX0 ? (data[i00 + ch] as number) : 0;
        const p01 = inY0 && inX1 ? (data[i00 + 3 + ch] as number) : 0;
        const p10 = inY1 && inX0 ? (data[i00 + stride + ch] as number) : 0;
        const p11 = inY1 && inX1 ? (data[i00 + stride + 3 + ch] as number) : 0;
        const top = p00 + (p01 - p00) * wx;
        const bottom = p10 + (p11 - p10) * wx;
        out[o + ch] = (top + (bottom - top) * wy + 0.5) | 0;
      }
    }
  }
  return out;
}

/**
 * Writes the RGB sample between the pixel at `top` (with its right neighbour) and the pixel at
 * `bottom` one row below, all four inside the image: the edge-free bilinear step.
 */
function sampleInside(
  data: Uint8Array,
  top: number,
  bottom: number,
  wx: number,
  wy: number,
  out: Uint8Array,
  o: number,
): void {
  for (let ch = 0; ch < 3; ch++) {
    const p00 = data[top + ch] as number;
    const p10 = data[bottom + ch] as number;
    const upper = p00 + ((data[top + 3 + ch] as number) - p00) * wx;
    const lower = p10 + ((data[bottom + 3 + ch] as number) - p10) * wx;
    out[o + ch] = (upper + (lower - upper) * wy + 0.5) | 0;
  }
}

/**
 * warpAffine's whole-pixel shift (cutting a box out of an image): every sample falls on a source
 * pixel, so rows are copied; outside the source stays black.
 */
function shiftCopy(
  source: { data: Uint8Array; width: number; height: number },
  offsetX: number,
  offsetY: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight * 3);
  const { data, width, height } = source;
  const fromX = Math.max(0, -offsetX);
  const toX = Math.min(outWidth, width - offsetX);
  if (toX <= fromX) return out;
  for (let y = Math.max(0, -offsetY); y < Math.min(outHeight, height - offsetY); y++) {
    const row = ((y + offsetY) * width + offsetX) * 3;
    out.set(data.subarray(row + fromX * 3, row + toX * 3), (y * outWidth + fromX) * 3);
  }
  return out;
}

/**
 * warpAffine's axis-aligned case (a resize and shift: every detector input), with the source
 * columns and weights worked out once per column instead of once per pixel; same sampling.
 */
function resizeBilinear(
  source: { data: Uint8Array; width: number; height: number },
  scaleX: number,
  offsetX: number,
  scaleY: number,
  offsetY: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const out = new Uint8Array(outWidth * outHeight * 3);
  const { data, width, height } = source;
  const stride = width * 3;
  // Per column: offset of the left source pixel, its weight, and the right pixel's offset from it
  // (0 where it falls outside, so the left one counts twice: weight 0 on a missing pixel).
  const columnStart = new Int32Array(outWidth).fill(-1);
  const columnWeight = new Float32Array(outWidth);
  const leftWeight = new Float32Array(outWidth);
  const rightWeight = new Float32Array(outWidth);
  const rightStep = new Int32Array(outWidth);
  const inner = new Uint8Array(outWidth);
  for (let x = 0; x < outWidth; x++) {
    const sx = scaleX * x + offsetX;
    if (sx <= -1 || sx >= width) continue;
    const x0 = Math.floor(sx);
    const wx = sx - x0;
    columnWeight[x] = wx;
    // The left pixel stands in for a missing one at its weight of zero.
    const hasLeft = x0 >= 0;
    const hasRight = x0 + 1 < width;
    columnStart[x] = (hasLeft ? x0 : x0 + 1) * 3;
    rightStep[x] = hasLeft && hasRight ? 3 : 0;
    leftWeight[x] = hasLeft ? 1 : 0;
    rightWeight[x] = hasRight ? 1 : 0;
    inner[x] = hasLeft && hasRight ? 1 : 0;
  }
  for (let y = 0; y < outHeight; y++) {
    const sy = scaleY * y + offsetY;
    if (sy <= -1 || sy >= height) continue;
    const y0 = Math.floor(sy);
    const wy = sy - y0;
    const topWeight = y0 >= 0 ? 1 : 0;
    const bottomWeight = y0 + 1 < height ? 1 : 0;
    const topRow = (topWeight ? y0 : y0 + 1) * stride;
    const bottomRow = bottomWeight ? (y0 + 1) * stride : topRow;
    let o = y * outWidth * 3;
    const innerRow = topWeight === 1 && bottomWeight === 1;
    for (let x = 0; x < outWidth; x++, o += 3) {
      const start = columnStart[x] as number;
      if (start < 0) continue;
      const wx = columnWeight[x] as number;
      if (innerRow && inner[x] === 1) {
        // Both source rows and columns inside: the weights below are all 1.
        sampleInside(data, topRow + start, bottomRow + start, wx, wy, out, o);
        continue;
      }
      const step = rightStep[x] as number;
      const lw = leftWeight[x] as number;
      const rw = rightWeight[x] as number;
      const t = topRow + start;
      const bt = bottomRow + start;
      for (let ch = 0; ch < 3; ch++) {
        const p00 = (data[t + ch] as number) * lw * topWeight;
        const p01 = (data[t + step + ch] as number) * rw * topWeight;
        const p10 = (data[bt + ch] as number) * lw * bottomWeight;
        const p11 = (data[bt + step + ch] as number) * rw * bottomWeight;
        const top = p00 + (p01 - p00) * wx;
        const bottom = p10 + (p11 - p10) * wx;
        out[o + ch] = (top + (bottom - top) * wy + 0.5) | 0;
      }
    }
  }
  return out;
}

/**
 * The map from output pixels to source pixels of a resize by `scale` placed at `left`,`top`, with
 * pixel centres at half-integers (OpenCV's and TensorFlow's half-pixel resize).
 */
export function placementInverse(scale: number, left: number, top: number): Affine {
  return [1 / scale, 0, (0.5 - left) / scale - 0.5, 0, 1 / scale, (0.5 - top) / scale - 0.5];
}

/** Intersection over union of two [x1, y1, x2, y2] boxes. */
export function iou(a: readonly number[], b: readonly number[]): number {
  const [ax1, ay1, ax2, ay2] = a as [number, number, number, number];
  const [bx1, by1, bx2, by2] = b as [number, number, number, number];
  const w = Math.min(ax2, bx2) - Math.max(ax1, bx1);
  const h = Math.min(ay2, by2) - Math.max(ay1, by1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter);
}
