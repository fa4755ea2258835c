import type { OutputTensor } from '../onnx/onnx-session.js';
import type { DetectorManifest } from '../profiles/manifest.js';
import { ssdAnchors } from '../profiles/ssd-anchors.js';
import { cachedAnchors, centredBox, type RawDetection } from './raw-detection.js';

/** face-api's box-coder variances: centre offsets divided by 10, log sizes by 5. */
const CENTRE_VARIANCE = 10;
const SIZE_VARIANCE = 5;

/** Anchors of the last few input sizes: a camera's frames all share one. */
const anchorCache = new Map<string, Float32Array>();

function anchorsFor(manifest: DetectorManifest, width: number, height: number): Float32Array {
  const { strides, anchorSizes } = manifest;
  if (!strides || !anchorSizes) throw new RangeError('SSD manifest needs strides and anchorSizes');
  const key = `${strides.join(',')}|${JSON.stringify(anchorSizes)}|${width}x${height}`;
  return cachedAnchors(anchorCache, key, () => ssdAnchors(strides, anchorSizes, width, height));
}

/**
 * Decodes the converted SSD-MobileNetV1 outputs: `encodings` [1, A, 4] (centre y, centre x, log
 * height, log width against each anchor) and `scores` [1, A] (sigmoid face score), for a
 * `inputWidth` x `inputHeight` input. Boxes come back in pixels of the network input, clipped to it.
 */
export function decodeSsd(
  outputs: Record<string, OutputTensor>,
  manifest: DetectorManifest,
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
): RawDetection[] {
  const [encodingsName = 'encodings', scoresName = 'scores'] = manifest.outputs;
  const encodings = outputs[encodingsName];
  const scores = outputs[scoresName];
  if (!encodings || !scores) throw new RangeError('SSD outputs encodings and scores are missing');
  const anchors = anchorsFor(manifest, inputWidth, inputHeight);
  const count = scores.data.length;
  if (encodings.data.length !== count * 4 || anchors.length !== count * 4) {
    throw new RangeError(
      `SSD output has ${encodings.data.length / 4} boxes and ${count} scores for ${anchors.length / 4} anchors`,
    );
  }
  const detections: RawDetection[] = [];
  for (let i = 0; i < count; i++) {
    const score = scores.data[i] as number;
    if (score < scoreThreshold) continue;
    const e = i * 4;
    const anchorWidth = anchors[e + 2] as number;
    const anchorHeight = anchors[e + 3] as number;
    const cy = ((encodings.data[e] as number) / CENTRE_VARIANCE) * anchorHeight + (anchors[e + 1] as number);
    const cx = ((encodings.data[e + 1] as number) / CENTRE_VARIANCE) * anchorWidth + (anchors[e] as number);
    const halfHeight = (Math.exp((encodings.data[e + 2] as number) / SIZE_VARIANCE) * anchorHeight) / 2;
    const halfWidth = (Math.exp((encodings.data[e + 3] as number) / SIZE_VARIANCE) * anchorWidth) / 2;
    const box = centredBox(cx, cy, halfWidth, halfHeight, inputWidth, inputHeight, score);
    if (box) detections.push(box);
  }
  return detections;
}
