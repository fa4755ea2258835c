/**
 * Calibration of the int8 descriptor (`face_recognition_int8.onnx`): the activation ranges its
 * quantized convolutions are given. The faces are face-api's six sample photos (22 faces), found and
 * aligned by Vigil's own runtime exactly as the live pipeline does it (VIDEO_FRAME: a photo's extra
 * looks would change the ranges with every detector tweak), each crop with its mirror image
 * (the profile embeds both); the float descriptor runs over them with every Conv's input and output
 * exposed, and the min and max of each are kept, with headroom.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FaceEngine, type ModelProfile, packTensor, VIDEO_FRAME } from '@vigil/face-runtime';
import * as ort from 'onnxruntime-node';
import { calibrationModel, type TensorRange } from './converter/qdq-quantizer.js';

/** The sample photos `@vladmandic/face-api` ships (demo/sample1..6.jpg, 3-6 people each). */
export function faceApiSamplePhotos(): string[] {
  const main = createRequire(import.meta.url).resolve('@vladmandic/face-api');
  const demo = path.join(path.dirname(main), '..', 'demo');
  return [1, 2, 3, 4, 5, 6].map((i) => path.join(demo, `sample${i}.jpg`));
}

/** Crops the descriptor sees per call while calibrating. */
const BATCH = 8;

/**
 * The observed ranges are widened by this factor: 44 crops of 22 faces do not reach every face's
 * extremes, and clipping hurts more than coarser steps. Measured against the float descriptor on 598
 * LFW crops (one photo of 299 people, and mirrors): 1 - cosine mean / p99 / max 3.1e-4 / 5.8e-3 /
 * 8.0e-3 at the observed max, 3.1e-4 / 1.4e-3 / 3.4e-3 at 1.5x, 3.7e-4 / 8.0e-4 / 1.4e-3 at 1.75x,
 * 4.6e-4 / 8.5e-4 / 1.9e-3 at 2x.
 */
export const CALIBRATION_HEADROOM = 1.5;

/**
 * Activation ranges of the float descriptor `floatModel` over the sample faces. `profile` names
 * the (already built) detector and landmark models that find and align them; its files are paths.
 */
export async function calibrateDescriptor(
  floatModel: Uint8Array,
  profile: ModelProfile,
): Promise<Map<string, TensorRange>> {
  const engine = await FaceEngine.load({ profile, threads: 1 });
  const crops: Uint8Array[] = [];
  try {
    for (const photo of faceApiSamplePhotos()) {
      const { faces } = await engine.detect(fs.readFileSync(photo), VIDEO_FRAME);
      for (const face of faces) crops.push(face.crop);
    }
  } finally {
    await engine.dispose();
  }
  if (crops.length === 0) throw new Error('calibration found no face in the sample photos');
  const [width, height] = profile.embedder.inputSize;
  // Each crop, then the same crop packed flipped (its mirror image), as the profile embeds them.
  const views = crops.flatMap((crop) => [crop, crop]);
  const mirrored = views.map((_, i) => i % 2 === 1);

  const { bytes, tensors } = calibrationModel(floatModel);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const ranges = new Map<string, TensorRange>();
  try {
    for (let start = 0; start < views.length; start += BATCH) {
      const { data, dims } = packTensor(
        views.slice(start, start + BATCH),
        width,
        height,
        profile.embedder.normalisation,
        { mirrored: mirrored.slice(start, start + BATCH) },
      );
      const outputs = await session.run({ [profile.embedder.input ?? 'input']: new ort.Tensor(data, dims) });
      for (const name of tensors) {
        const values = outputs[name]?.data as Float32Array | undefined;
        if (!values) throw new Error(`calibration output ${name} missing`);
        let min = Number.POSITIVE_INFINITY;
        let max = Number.NEGATIVE_INFINITY;
        for (const v of values) {
          if (v < min) min = v;
          if (v > max) max = v;
        }
        const seen = ranges.get(name);
        ranges.set(name, { min: Math.min(min, seen?.min ?? min), max: Math.max(max, seen?.max ?? max) });
      }
    }
  } finally {
    await session.release();
  }
  for (const [name, { min, max }] of ranges) {
    ranges.set(name, { min: min * CALIBRATION_HEADROOM, max: max * CALIBRATION_HEADROOM });
  }
  return ranges;
}
