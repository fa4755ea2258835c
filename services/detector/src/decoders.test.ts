import type { OutputTensor } from '@vigil/embedder';
import type { DetectorManifest } from '@vigil/models';
import { describe, expect, it } from 'vitest';
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
  const ssd: DetectorManifest = {
    ...scrfd,
    kind: 'ssd-mobilenetv1',
    outputs: ['boxes', 'scores'],
    landmarkCount: 0,
  };

  it('reads (y1, x1, y2, x2) normalised boxes, clips them and drops low scores', () => {
    const boxes = {
      data: Float32Array.from([0.1, 0.2, 0.5, 0.6, -0.1, 0.9, 0.4, 1.2, 0, 0, 1, 1]),
      dims: [1, 3, 4],
    };
    const scores = { data: Float32Array.from([0.8, 0.7, 0.3]), dims: [1, 3] };
    const detections = decodeSsd({ boxes, scores }, ssd, 100, 200, 0.5);
    expect(detections).toHaveLength(2);
    const [first, second] = detections;
    expect(first?.corners.map((v) => Math.round(v * 1000) / 1000)).toEqual([20, 20, 60, 100]);
    expect(second?.corners.map((v) => Math.round(v * 1000) / 1000)).toEqual([90, 0, 100, 80]);
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
