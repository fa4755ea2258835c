import type { Point } from '@vigil/core';
import { iou } from './face-geometry.js';

/** A face as a decoder sees it: corners [x1, y1, x2, y2], score and the detector's landmarks. */
export interface RawDetection {
  corners: [number, number, number, number];
  score: number;
  landmarks: Point[];
}

/** Greedy non-maximum suppression: keeps the best-scoring box of every group overlapping by > `threshold`. */
export function nonMaximumSuppression(detections: RawDetection[], threshold: number): RawDetection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: RawDetection[] = [];
  for (const candidate of sorted) {
    if (kept.every((k) => iou(k.corners, candidate.corners) <= threshold)) kept.push(candidate);
  }
  return kept;
}
