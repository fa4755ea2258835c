import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, it } from 'vitest';
import { readTfjsWeights } from './tfjs-weights.reader.js';

const modelDir = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api')),
  '..',
  'model',
);

describe('readTfjsWeights', () => {
  it.each(['ssd_mobilenetv1_model', 'face_landmark_68_model', 'face_recognition_model'])(
    'dequantises %s exactly as tfjs-core io.decodeWeights does',
    async (name) => {
      await tf.setBackend('cpu');
      const manifestPath = path.join(modelDir, `${name}-weights_manifest.json`);
      const groups = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
        paths: string[];
        weights: tf.io.WeightsManifestEntry[];
      }[];
      const ours = readTfjsWeights(manifestPath);
      let compared = 0;
      for (const group of groups) {
        const bytes = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
        const reference = tf.io.decodeWeights(new Uint8Array(bytes).buffer, group.weights);
        for (const [key, tensor] of Object.entries(reference)) {
          const mine = ours.get(key);
          expect(mine?.shape, key).toEqual(tensor.shape);
          expect(mine?.dtype, key).toBe(tensor.dtype);
          const expected = tensor.dataSync();
          let differing = 0;
          for (let i = 0; i < expected.length; i++) if (mine?.data[i] !== expected[i]) differing += 1;
          expect(differing, key).toBe(0);
          compared += 1;
          tensor.dispose();
        }
      }
      expect(compared).toBe(ours.size);
      expect(compared).toBeGreaterThan(40);
    },
  );
});
