import type { OutputTensor } from '@vigil/embedder';
import type { DetectorManifest } from '@vigil/models';
import type { RawDetection } from './raw-detection.js';

/**
 * Decodes the converted SSD-MobileNetV1 outputs: `boxes` [1, N, 4] already decoded against the
 * prior boxes as (y1, x1, y2, x2) normalised 0..1 to the network input, and `scores` [1, N]
 * (sigmoid face score). Coordinates come back in pixels of the network input.
 */
export function decodeSsd(
  outputs: Record<string, OutputTensor>,
  manifest: DetectorManifest,
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
): RawDetection[] {
  const [boxesName = 'boxes', scoresName = 'scores'] = manifest.outputs;
  const boxes = outputs[boxesName];
  const scores = outputs[scoresName];
  if (!boxes || !scores) throw new RangeError('SSD outputs boxes and scores are missing');
  const count = scores.data.length;
  if (boxes.data.length !== count * 4) {
    throw new RangeError(`SSD output has ${boxes.data.length / 4} boxes for ${count} scores`);
  }
  const detections: RawDetection[] = [];
  for (let i = 0; i < count; i++) {
    const score = scores.data[i] as number;
    if (score < scoreThreshold) continue;
    const y1 = Math.max(0, boxes.data[i * 4] as number);
    const x1 = Math.max(0, boxes.data[i * 4 + 1] as number);
    const y2 = Math.min(1, boxes.data[i * 4 + 2] as number);
    const x2 = Math.min(1, boxes.data[i * 4 + 3] as number);
    if (x2 <= x1 || y2 <= y1) continue;
    detections.push({
      corners: [x1 * inputWidth, y1 * inputHeight, x2 * inputWidth, y2 * inputHeight],
      score,
      landmarks: [],
    });
  }
  return detections;
}
