import type { OutputTensor } from '../onnx/onnx-session.js';
import type { DetectorManifest } from '../profiles/manifest.js';
import { cachedAnchors, centredBox, type RawDetection } from './raw-detection.js';

/** The RFB detector's box-coder variances: centre offsets times 0.1, log sizes times 0.2. */
const CENTRE_VARIANCE = 0.1;
const SIZE_VARIANCE = 0.2;

/** Anchors of the last few input sizes, [cx, cy, w, h] in input pixels: a camera's frames share one. */
const anchorCache = new Map<string, Float32Array>();

/**
 * Anchors of an RFB detector (Ultra-Light-Fast-Generic-Face-Detector's prior boxes) for a
 * `width` x `height` input: for each stride, a grid of ceil(size / stride) cells, row by row, each
 * with one square anchor per side in `sides`, centred at (i + 0.5) / cells of the input (as the
 * exported graph computes them: for 240 px and stride 32, 8 cells of 30 px, not 7.5 of 32).
 */
export function rfbAnchors(
  strides: readonly number[],
  sides: readonly number[][],
  width: number,
  height: number,
): Float32Array {
  const key = `${strides.join(',')}|${JSON.stringify(sides)}|${width}x${height}`;
  return cachedAnchors(anchorCache, key, () => anchorGrid(strides, sides, width, height));
}

function anchorGrid(
  strides: readonly number[],
  sides: readonly number[][],
  width: number,
  height: number,
): Float32Array {
  const values: number[] = [];
  strides.forEach((stride, level) => {
    const columns = Math.ceil(width / stride);
    const rows = Math.ceil(height / stride);
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < columns; i++) {
        for (const side of sides[level] ?? []) {
          values.push(((i + 0.5) / columns) * width, ((j + 0.5) / rows) * height, side, side);
        }
      }
    }
  });
  return Float32Array.from(values);
}

/**
 * Decodes the RFB detector's outputs: `scores` [1, A, 2] (softmax: background, face) and
 * `regressions` [1, A, 4] (centre x, y and log width, height against each anchor). Boxes come back
 * in pixels of the network input, clipped to it.
 */
export function decodeRfb(
  outputs: Record<string, OutputTensor>,
  manifest: DetectorManifest,
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
): RawDetection[] {
  const [scoresName = 'scores', regressionsName = 'regressions'] = manifest.outputs;
  const scores = outputs[scoresName];
  const regressions = outputs[regressionsName];
  if (!scores || !regressions) throw new RangeError('RFB outputs scores and regressions are missing');
  if (!manifest.strides || !manifest.anchorSides)
    throw new RangeError('RFB manifest needs strides and anchorSides');
  const anchors = rfbAnchors(manifest.strides, manifest.anchorSides, inputWidth, inputHeight);
  const count = anchors.length / 4;
  if (scores.data.length !== count * 2 || regressions.data.length !== count * 4) {
    throw new RangeError(
      `RFB output has ${regressions.data.length / 4} boxes and ${scores.data.length / 2} scores for ${count} anchors`,
    );
  }
  const detections: RawDetection[] = [];
  for (let i = 0; i < count; i++) {
    const score = scores.data[2 * i + 1] as number;
    if (score < scoreThreshold) continue;
    const e = i * 4;
    const anchorWidth = anchors[e + 2] as number;
    const anchorHeight = anchors[e + 3] as number;
    const cx = (regressions.data[e] as number) * CENTRE_VARIANCE * anchorWidth + (anchors[e] as number);
    const cy =
      (regressions.data[e + 1] as number) * CENTRE_VARIANCE * anchorHeight + (anchors[e + 1] as number);
    const halfWidth = (Math.exp((regressions.data[e + 2] as number) * SIZE_VARIANCE) * anchorWidth) / 2;
    const halfHeight = (Math.exp((regressions.data[e + 3] as number) * SIZE_VARIANCE) * anchorHeight) / 2;
    const box = centredBox(cx, cy, halfWidth, halfHeight, inputWidth, inputHeight, score);
    if (box) detections.push(box);
  }
  return detections;
}
