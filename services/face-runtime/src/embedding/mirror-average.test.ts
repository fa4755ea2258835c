import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../profiles/profile.js';
import { FaceEmbedder, mirror } from './face-embedder.service.js';
import { cosineSimilarity } from './similarity.js';

const require = createRequire(import.meta.url);
const samples = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

const manifest = loadProfile('default').embedder;
/** The embedder's square input side. */
const SIDE = manifest.inputSize[0];

/** A square crop of the first face of sample 1 (not aligned: the embedder does not care here). */
async function crop(): Promise<Uint8Array> {
  const { data } = await sharp(fs.readFileSync(path.join(samples, 'sample1.jpg')))
    .resize(600)
    .extract({ left: 60, top: 40, width: SIDE, height: SIDE })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

describe('FaceEmbedder mirror averaging (real onnxruntime, the default profile descriptor)', () => {
  let plain: FaceEmbedder;
  let averaged: FaceEmbedder;

  beforeAll(async () => {
    plain = await FaceEmbedder.load({ ...manifest, mirrorAverage: false });
    averaged = await FaceEmbedder.load({ ...manifest, mirrorAverage: true });
  });
  afterAll(async () => {
    await plain?.dispose();
    await averaged?.dispose();
  });

  it('mirrors a crop left to right', () => {
    const image = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Array.from(mirror(image, 2, 2))).toEqual([4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
  });

  it('averages the crop and its mirror image, so the descriptor no longer depends on the side', async () => {
    const face = await crop();
    const flipped = mirror(face, SIDE, SIDE);
    const [a, b] = await plain.embed([face, flipped]);
    const [averagedFace, averagedFlipped] = await averaged.embed([face, flipped]);
    // The network alone tells a face from its mirror image...
    expect(cosineSimilarity(a as Float32Array, b as Float32Array)).toBeLessThan(0.9999);
    // ...the average is their normalised sum, and the same for both.
    const sum = (a as Float32Array).map((v, k) => v + ((b as Float32Array)[k] as number));
    expect(cosineSimilarity(averagedFace as Float32Array, sum)).toBeGreaterThan(0.99999);
    expect(cosineSimilarity(averagedFace as Float32Array, averagedFlipped as Float32Array)).toBeGreaterThan(
      0.99999,
    );
    expect(Math.hypot(...(averagedFace as Float32Array))).toBeCloseTo(1, 5);
  });

  it('averages every view of a face, each with its mirror image, into one embedding', async () => {
    const face = await crop();
    const shifted = await crop();
    shifted.copyWithin(0, 3 * SIDE * 4); // the same face four rows higher
    const [a, b, c, d] = await plain.embed([
      face,
      mirror(face, SIDE, SIDE),
      shifted,
      mirror(shifted, SIDE, SIDE),
    ]);
    const [both, alone] = await averaged.embedViews([[face, shifted], [face]]);
    const sum = (a as Float32Array).map(
      (v, k) =>
        v +
        ((b as Float32Array)[k] as number) +
        ((c as Float32Array)[k] as number) +
        ((d as Float32Array)[k] as number),
    );
    expect(cosineSimilarity(both as Float32Array, sum)).toBeGreaterThan(0.99999);
    expect(cosineSimilarity(both as Float32Array, alone as Float32Array)).toBeLessThan(0.99999);
    expect(Math.hypot(...(both as Float32Array))).toBeCloseTo(1, 5);
    // One view a face is exactly `embed`.
    expect(Array.from(alone as Float32Array)).toEqual(
      Array.from((await averaged.embed([face]))[0] as Float32Array),
    );
  });
});
