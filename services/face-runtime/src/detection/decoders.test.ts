import { describe, expect, it } from 'vitest';
import type { OutputTensor } from '../onnx/onnx-session.js';
import type { DetectorManifest } from '../profiles/manifest.js';
import { nonMaximumSuppression } from './raw-detection.js';
import { decodeScrfd } from './scrfd.decoder.js';
import { decodeSsd } from './ssd.decoder.js';

const normalisation = { channels: 'rgb', layout: 'nchw', mean: [0, 0, 0], std: [1, 1, 1] } as const;
const scrfd: DetectorManifest = {
  kind: 'scrfd',
  file: 'scrfd.onnx',
  inputSize: [64, 32],
  dynamicInput: true,
  normalisation: { ...normalisation, mean: [0, 0, 0], std: [1, 1, 1] },
  outputs: ['score_8', 'score_16', 'score_32', 'bbox_8', 'bbox_16', 'bbox_32', 'kps_8', 'kps_16', 'kps_32'],
  strides: [8, 16, 32],
  anchorsPerCell: 2,
  scoreThreshold: 0.5,
  nmsIoU: 0.4,
  landmarkCount: 5,
};

function tensor(length: number): OutputTensor {
  return { data: new Float32Array(length), dims: [1, length] };
}

describe('decodeScrfd', () => {
  it('decodes distances and keypoints around the anchor centre in units of the stride', () => {
    // 64x32 input: stride 8 has 8x4 cells, 16 has 4x2, 32 has 2x1; two anchors a cell.
    const outputs: Record<string, OutputTensor> = {};
    for (const [stride, cells] of [
      [8, 32],
      [16, 8],
      [32, 2],
    ] as const) {
      outputs[`score_${stride}`] = tensor(cells * 2);
      outputs[`bbox_${stride}`] = tensor(cells * 2 * 4);
      outputs[`kps_${stride}`] = tensor(cells * 2 * 10);
    }
    // Stride 16, cell (x=3, y=1), second anchor: index (1 * 4 + 3) * 2 + 1 = 15; centre (48, 16).
    const index = 15;
    (outputs.score_16 as OutputTensor).data[index] = 0.9;
    (outputs.bbox_16 as OutputTensor).data.set([1, 0.5, 0.25, 1], index * 4);
    (outputs.kps_16 as OutputTensor).data.set(
      [-0.5, -0.25, 0.5, -0.25, 0, 0, -0.25, 0.5, 0.25, 0.5],
      index * 10,
    );
    // A score under the threshold elsewhere is dropped.
    (outputs.score_8 as OutputTensor).data[3] = 0.2;
    const detections = decodeScrfd(outputs, scrfd, 64, 32, 0.5);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.score).toBeCloseTo(0.9, 6);
    expect(detections[0]?.corners).toEqual([32, 8, 52, 32]);
    expect(detections[0]?.landmarks).toEqual([
      [40, 12],
      [56, 12],
      [48, 16],
      [44, 24],
      [52, 24],
    ]);
  });
});

describe('decodeSsd', () => {
  // One 32x32 feature map holding one 16x24 anchor per cell: a 64x32 input has 2x1 cells.
  const ssd: DetectorManifest = {
    ...scrfd,
    kind: 'ssd-mobilenetv1',
    outputs: ['encodings', 'scores'],
    strides: [32],
    anchorSizes: [[[16, 24]]],
    landmarkCount: 0,
  };

  it('decodes encodings against the anchors (variances 10 and 5), clips and drops low scores', () => {
    const encodings = {
      // cell 0 (centre 16,16): shifted by half an anchor down and right, twice the size;
      // cell 1 (centre 48,16): as the anchor, but scored too low to keep.
      data: Float32Array.from([5, 5, 5 * Math.log(2), 5 * Math.log(2), 0, 0, 0, 0]),
      dims: [1, 2, 4],
    };
    const scores = { data: Float32Array.from([0.8, 0.3]), dims: [1, 2] };
    const detections = decodeSsd({ encodings, scores }, ssd, 64, 32, 0.5);
    expect(detections).toHaveLength(1);
    // centre (16 + 8, 16 + 12) = (24, 28), size 32x48: x 8..40, y 4..52 clipped to 32.
    expect(detections[0]?.corners.map((v) => Math.round(v * 1000) / 1000)).toEqual([8, 4, 40, 32]);
    expect(detections[0]?.score).toBeCloseTo(0.8);
  });

  it('refuses outputs that do not fit the anchors of the input size', () => {
    const encodings = { data: new Float32Array(12), dims: [1, 3, 4] };
    const scores = { data: new Float32Array(3), dims: [1, 3] };
    expect(() => decodeSsd({ encodings, scores }, ssd, 64, 32, 0.5)).toThrow(RangeError);
  });
});

describe('nonMaximumSuppression', () => {
  it('keeps the best of overlapping boxes and every separate one', () => {
    const kept = nonMaximumSuppression(
      [
        { corners: [0, 0, 10, 10], score: 0.6, landmarks: [] },
        { corners: [1, 1, 11, 11], score: 0.9, landmarks: [] },
        { corners: [50, 50, 60, 60], score: 0.7, landmarks: [] },
      ],
      0.4,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7]);
  });
});
