import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceEngine, type ImageAnalysis } from '../engine/face-engine.service.js';
import { INSIGHTFACE_FILES } from './profile-loader.js';

const require = createRequire(import.meta.url);
const samples = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
/** Standard insightface-style models this machine has beside the repository; fresh clones do not. */
const MODELS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../../shared/models');
const present = Object.values(INSIGHTFACE_FILES).every((f) => fs.existsSync(path.join(MODELS_DIR, f)));

describe.runIf(present)('FaceEngine on bring-your-own SCRFD-500M + MobileFaceNet (../shared/models)', () => {
  let engine: FaceEngine;
  const analyses: ImageAnalysis[] = [];

  beforeAll(async () => {
    engine = await FaceEngine.load({ profile: 'insightface', modelsDir: MODELS_DIR });
    for (const n of [1, 3, 5]) {
      analyses.push(await engine.analyse(fs.readFileSync(path.join(samples, `sample${n}.jpg`))));
    }
  });
  afterAll(() => engine?.dispose());

  it('loads the SCRFD decoder with 5 keypoints and the 112x112 ArcFace crop', () => {
    expect(engine.profile.detector.kind).toBe('scrfd');
    expect(engine.cropSize).toEqual([112, 112]);
  });

  it('finds the faces of the sample photos with 5 landmarks each', () => {
    expect(analyses.map((a) => a.faces.length)).toEqual([3, 3, 5]);
    for (const { face } of analyses.flatMap((a) => a.faces)) {
      expect(face.landmarks).toHaveLength(5);
      expect(face.keypoints[0][0]).toBeLessThan(face.keypoints[1][0]);
    }
  });

  it('matches the same person across photos and no one else', () => {
    const a = analyses[0]?.faces[0]?.embedding as Float32Array;
    const same = analyses[1]?.faces[0]?.embedding as Float32Array;
    expect(engine.similarity(a, same)).toBeGreaterThanOrEqual(engine.threshold);
    for (const { embedding } of analyses[2]?.faces ?? []) {
      expect(engine.similarity(a, embedding as Float32Array)).toBeLessThan(engine.threshold);
    }
  });
});
