import type { Point } from '@vigil/core';
import type { OutputTensor } from '../onnx/onnx-session.js';
import type { DetectorManifest } from '../profiles/manifest.js';
import type { RawDetection } from './raw-detection.js';

/**
 * Decodes SCRFD outputs (insightface's `SCRFD.forward`): for each stride, per-anchor scores,
 * distances from the anchor centre to the box sides and keypoint offsets, all in units of the
 * stride. `outputs` are named in the manifest's order: scores, boxes, keypoints, each per stride.
 * Coordinates come back in pixels of the network input.
 */
export function decodeScrfd(
  outputs: Record<string, OutputTensor>,
  manifest: DetectorManifest,
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
): RawDetection[] {
  const strides = manifest.strides ?? [8, 16, 32];
  const anchors = manifest.anchorsPerCell ?? 2;
  const withKeypoints = manifest.landmarkCount === 5;
  const detections: RawDetection[] = [];
  strides.forEach((stride, level) => {
    const scores = tensor(outputs, manifest.outputs[level]);
    const boxes = tensor(outputs, manifest.outputs[level + strides.length]);
    const keypoints = withKeypoints
      ? tensor(outputs, manifest.outputs[level + 2 * strides.length])
      : undefined;
    const columns = Math.ceil(inputWidth / stride);
    const rows = Math.ceil(inputHeight / stride);
    const count = rows * columns * anchors;
    if (scores.data.length < count) {
      throw new RangeError(`SCRFD stride ${stride}: ${scores.data.length} scores for ${count} anchors`);
    }
    for (let i = 0; i < count; i++) {
      const score = scores.data[i] as number;
      if (score < scoreThreshold) continue;
      const cell = Math.floor(i / anchors);
      const cx = (cell % columns) * stride;
      const cy = Math.floor(cell / columns) * stride;
      const b = i * 4;
      const corners: [number, number, number, number] = [
        cx - (boxes.data[b] as number) * stride,
        cy - (boxes.data[b + 1] as number) * stride,
        cx + (boxes.data[b + 2] as number) * stride,
        cy + (boxes.data[b + 3] as number) * stride,
      ];
      const landmarks: Point[] = [];
      if (keypoints) {
        for (let k = 0; k < 5; k++) {
          landmarks.push([
            cx + (keypoints.data[i * 10 + 2 * k] as number) * stride,
            cy + (keypoints.data[i * 10 + 2 * k + 1] as number) * stride,
          ]);
        }
      }
      detections.push({ corners, score, landmarks });
    }
  });
  return detections;
}

function tensor(outputs: Record<string, OutputTensor>, name: string | undefined): OutputTensor {
  const value = name === undefined ? undefined : outputs[name];
  if (!value) throw new RangeError(`detector output ${name} is missing`);
  return value;
}
