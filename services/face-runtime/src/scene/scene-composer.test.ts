import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaceEngine } from '../engine/face-engine.service.js';
import { composeScene, regionSharpness, type SceneBox } from './scene-composer.js';

const require = createRequire(import.meta.url);
const samples = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
/** face-api's sample1.jpg: three people side by side, 1920 px wide. */
const photo = fs.readFileSync(path.join(samples, 'sample1.jpg'));

describe('composeScene on a real photo with three faces (default profile, real onnxruntime)', () => {
  let engine: FaceEngine;
  let boxes: SceneBox[];

  beforeAll(async () => {
    engine = await FaceEngine.load({ profile: 'default' });
    boxes = (await engine.detect(photo)).faces.map(({ face }) => face.box).sort((a, b) => a[0] - b[0]);
  });
  afterAll(async () => {
    await engine.dispose();
  });
  /**
   * Boxes of the faces the detector finds with confidence (0.5: it reports low-score candidates
   * too, which blurred blobs are at 0.12-0.34 and real faces of these photos above 0.99).
   */
  const confidentFaces = async (jpeg: Uint8Array) =>
    (await engine.detect(jpeg)).faces.filter(({ face }) => face.score >= 0.5).map(({ face }) => face.box);

  it('keeps the chosen face sharp and outlined, blurs the others so the detector no longer finds them, downscaled', async () => {
    expect(boxes).toHaveLength(3);
    const [left, middle, right] = boxes as [SceneBox, SceneBox, SceneBox];
    const scene = await composeScene(photo, { keep: [right], blur: [left, middle], maxWidth: 1280 });
    const meta = await sharp(scene.jpeg).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 1280, height: scene.height });
    expect(scene.width).toBe(1280);

    const scale = 1280 / 1920;
    const scaled = (b: SceneBox): SceneBox => [b[0] * scale, b[1] * scale, b[2] * scale, b[3] * scale];
    const original = await sharp(photo).resize(1280).jpeg({ quality: 80 }).toBuffer();
    for (const bystander of [left, middle]) {
      const energy = await regionSharpness(scene.jpeg, scaled(bystander));
      // A blurred face keeps a small part of the sharpness it had.
      expect(energy).toBeLessThan((await regionSharpness(original, scaled(bystander))) * 0.2);
    }
    // The kept face (inside its outline) is as sharp as in the plain downscaled photo.
    const inner: SceneBox = [right[0] + 8, right[1] + 8, right[2] - 16, right[3] - 16];
    expect(await regionSharpness(scene.jpeg, scaled(inner))).toBeGreaterThan(
      (await regionSharpness(original, scaled(inner))) * 0.8,
    );

    // The face detector itself finds only the kept face in the scene.
    const found = await confidentFaces(scene.jpeg);
    expect(found).toHaveLength(1);
    expect((found[0] as SceneBox)[0]).toBeGreaterThan(right[0] * scale - 20);
  });

  it('blurs every face of a live view frame when no track has alerted, and never scales up', async () => {
    const small = await sharp(photo).resize(600).jpeg().toBuffer();
    const factor = 600 / 1920;
    const scene = await composeScene(small, {
      keep: [],
      blur: boxes.map((b) => b.map((v) => v * factor) as unknown as SceneBox),
      maxWidth: 640,
    });
    expect(scene.width).toBe(600);
    expect(await confidentFaces(scene.jpeg)).toEqual([]);
  });
});
