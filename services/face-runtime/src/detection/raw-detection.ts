import type { Point } from '@vigil/core';
import { iou } from '../alignment/face-geometry.js';

/** A face as a decoder sees it: corners [x1, y1, x2, y2], score and the detector's landmarks. */
export interface RawDetection {
  corners: [number, number, number, number];
  score: number;
  landmarks: Point[];
}

/**
 * Greedy non-maximum suppression: keeps the best-scoring box of every group overlapping by more than
 * `threshold`. With `nested`, a box whose centre lies inside a better one is dropped too: the RFB
 * detector frames one large face twice, as the whole head and as the face, at an IoU below 0.4.
 */
export function nonMaximumSuppression(
  detections: RawDetection[],
  threshold: number,
  options: { nested?: boolean } = {},
): RawDetection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: RawDetection[] = [];
  for (const candidate of sorted) {
    const [x1, y1, x2, y2] = candidate.corners;
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const suppressed = kept.some(
      (k) =>
        iou(k.corners, candidate.corners) > threshold ||
        (options.nested === true &&
          cx >= k.corners[0] &&
          cx <= k.corners[2] &&
          cy >= k.corners[1] &&
          cy <= k.corners[3]),
    );
    if (!suppressed) kept.push(candidate);
  }
  return kept;
}

/** Anchors of the last few input sizes, per decoder: a camera's frames all share one. */
export function cachedAnchors(
  cache: Map<string, Float32Array>,
  key: string,
  make: () => Float32Array,
): Float32Array {
  let anchors = cache.get(key);
  if (!anchors) {
    anchors = make();
    if (cache.size >= 8) cache.delete(cache.keys().next().value as string);
    cache.set(key, anchors);
  }
  return anchors;
}

/** A face box from its centre and half sides, clipped to a `width` x `height` input; none if empty. */
export function centredBox(
  cx: number,
  cy: number,
  halfWidth: number,
  halfHeight: number,
  width: number,
  height: number,
  score: number,
): RawDetection | undefined {
  const x1 = Math.max(0, cx - halfWidth);
  const y1 = Math.max(0, cy - halfHeight);
  const x2 = Math.min(width, cx + halfWidth);
  const y2 = Math.min(height, cy + halfHeight);
  return x2 > x1 && y2 > y1 ? { corners: [x1, y1, x2, y2], score, landmarks: [] } : undefined;
}
