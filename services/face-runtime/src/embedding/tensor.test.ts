import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxModel } from '../onnx/onnx-session.js';
import type { TensorNormalisation } from '../profiles/manifest.js';
import { loadProfile } from '../profiles/profile.js';
import { mirror } from './face-embedder.service.js';
import { packTensor } from './tensor.js';

const NCHW: TensorNormalisation = { channels: 'rgb', layout: 'nchw', mean: [1, 2, 3], std: [2, 4, 8] };
const NHWC_BGR: TensorNormalisation = { channels: 'bgr', layout: 'nhwc', mean: [0, 0, 0], std: [1, 1, 1] };

/** A 3x2 RGB image whose every byte differs. */
const image = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => 10 + i * 7);

describe('packTensor', () => {
  it('normalises each channel into its plane (nchw) or in place (nhwc, bgr)', () => {
    const { data, dims } = packTensor([image], 3, 2, NCHW);
    expect(dims).toEqual([1, 3, 2, 3]);
    // Red plane first: (byte - 1) / 2 for bytes 0, 3, 6, ...; then green, then blue.
    expect(Array.from(data.subarray(0, 6))).toEqual(
      [0, 3, 6, 9, 12, 15].map((i) => ((image[i] as number) - 1) / 2),
    );
    expect(data[6]).toBe(((image[1] as number) - 2) / 4);
    expect(data[17]).toBe(((image[17] as number) - 3) / 8);
    const bgr = packTensor([image], 3, 2, NHWC_BGR);
    expect(bgr.dims).toEqual([1, 2, 3, 3]);
    expect(Array.from(bgr.data.subarray(0, 3))).toEqual([image[2], image[1], image[0]]);
  });

  it('packs an image mirrored exactly as it packs its mirror copy, in either layout', () => {
    const other = image.map((v) => 255 - v);
    for (const normalisation of [NCHW, NHWC_BGR]) {
      const flipped = packTensor([image, other], 3, 2, normalisation, { mirrored: [false, true] });
      const copied = packTensor([image, mirror(other, 3, 2)], 3, 2, normalisation);
      expect(Array.from(flipped.data)).toEqual(Array.from(copied.data));
    }
  });

  it('writes into a given array, and refuses one too short', () => {
    const into = new Float32Array(100).fill(-1);
    const { data } = packTensor([image], 3, 2, NCHW, { into });
    expect(data.buffer).toBe(into.buffer);
    expect(data.length).toBe(18);
    expect(into[18]).toBe(-1);
    expect(() => packTensor([image], 3, 2, NCHW, { into: new Float32Array(17) })).toThrow(RangeError);
  });
});

describe('OnnxModel.runImages (real onnxruntime, the default profile descriptor)', () => {
  const manifest = loadProfile('default').embedder;
  const [width, height] = manifest.inputSize;
  const input = { width, height, normalisation: manifest.normalisation, name: manifest.input };
  let model: OnnxModel;
  beforeAll(async () => {
    model = await OnnxModel.open(manifest.file);
  });
  afterAll(async () => {
    await model?.dispose();
  });

  const face = (seed: number) => Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * seed) % 251);

  it('gives what run gives on a freshly packed tensor, and leaves no pixel in the tensor it keeps', async () => {
    const crops = [face(3), face(5)];
    const expected = packTensor(crops, width, height, manifest.normalisation);
    const plain = await model.run(expected.data, expected.dims, [manifest.output], manifest.input);
    // Concurrent calls of different sizes share the kept tensor one at a time.
    const [both, one, mirrored] = await Promise.all([
      model.runImages(crops, input, [manifest.output]),
      model.runImages([face(5)], input, [manifest.output]),
      model.runImages([face(3)], { ...input, mirrored: [true] }, [manifest.output]),
    ]);
    const output = manifest.output;
    expect(Array.from(both?.[output]?.data ?? [])).toEqual(Array.from(plain[output]?.data ?? []));
    expect(Array.from(one?.[output]?.data ?? [])).toEqual(
      Array.from(plain[output]?.data.subarray(manifest.embeddingSize) ?? []),
    );
    const flipped = packTensor([mirror(face(3), width, height)], width, height, manifest.normalisation);
    const flippedPlain = await model.run(flipped.data, flipped.dims, [output], manifest.input);
    expect(Array.from(mirrored?.[output]?.data ?? [])).toEqual(Array.from(flippedPlain[output]?.data ?? []));
    const kept = (model as unknown as { images: Float32Array }).images;
    expect(kept.length).toBeGreaterThanOrEqual(2 * width * height * 3);
    expect(kept.every((v) => v === 0)).toBe(true);
  });
});
