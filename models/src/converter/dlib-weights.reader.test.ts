import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dlibFaceRecognitionModelPath, readDlibFaceRecognitionWeights } from './dlib-weights.reader.js';
import { readTfjsWeights } from './tfjs-weights.reader.js';

const faceApiManifest = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api')),
  '..',
  'model',
  'face_recognition_model-weights_manifest.json',
);

describe('readDlibFaceRecognitionWeights', () => {
  it("reads dlib's float descriptor weights: each is face-api's uint8 port within half its quantization step", () => {
    const dlib = readDlibFaceRecognitionWeights(dlibFaceRecognitionModelPath());
    const faceApi = readTfjsWeights(faceApiManifest);
    const specs = (
      JSON.parse(fs.readFileSync(faceApiManifest, 'utf8')) as {
        weights: { name: string; quantization?: { scale: number } }[];
      }[]
    )[0]?.weights;
    expect(specs?.length).toBe(117);
    expect(dlib.size).toBe(117);
    let quantized = 0;
    for (const spec of specs ?? []) {
      const ours = dlib.get(spec.name);
      const theirs = faceApi.get(spec.name);
      expect(ours?.shape, spec.name).toEqual(theirs?.shape);
      // face-api stored most tensors as uint8 (value = q * scale + min); the rest as float32.
      const tolerance = spec.quantization ? spec.quantization.scale * 0.5001 : 0;
      let worst = 0;
      let differing = 0;
      for (let i = 0; i < (ours?.data.length ?? 0); i++) {
        const difference = Math.abs((ours?.data[i] as number) - (theirs?.data[i] as number));
        worst = Math.max(worst, difference);
        if (difference > 0) differing += 1;
      }
      expect(worst, spec.name).toBeLessThanOrEqual(tolerance);
      if (spec.quantization && differing > 0) quantized += 1;
    }
    // The float weights are not the quantized ones: nearly every quantized tensor differs somewhere.
    expect(quantized).toBeGreaterThan(100);
  });

  it('refuses a file that is not a dlib network with invalid_weights', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dlib-')), 'not-dlib.dat');
    fs.writeFileSync(file, 'just some text, no network here');
    expect(() => readDlibFaceRecognitionWeights(file)).toThrow(
      expect.objectContaining({ code: 'invalid_weights' }),
    );
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('refuses a truncated network with invalid_weights, never a RangeError', () => {
    const source = fs.readFileSync(dlibFaceRecognitionModelPath());
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dlib-')), 'truncated.dat');
    fs.writeFileSync(file, source.subarray(0, 1_000_000));
    expect(() => readDlibFaceRecognitionWeights(file)).toThrow(
      expect.objectContaining({ code: 'invalid_weights' }),
    );
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});
