import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iou } from '../alignment/face-geometry.js';
import { LIVE_GATE, passesGate } from '../quality/face-quality.js';
import { VIDEO_FRAME } from '../threads/frame-analyser.js';
import { FaceEngine, type ImageAnalysis } from './face-engine.service.js';

const require = createRequire(import.meta.url);
const samples = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (n: number) => fs.readFileSync(path.join(samples, `sample${n}.jpg`));
/** Faces a person counts in face-api's sample photos (every face is frontal or three-quarter). */
const FACES_IN_SAMPLE = [3, 3, 3, 4, 5, 4];

const corners = ([x, y, w, h]: [number, number, number, number]) => [x, y, x + w, y + h];
const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('FaceEngine on the default profile (converted face-api models, real onnxruntime)', () => {
  let engine: FaceEngine;
  /** dlib's descriptor over each crop's turned views, each with its mirror image. */
  let dlib: FaceEngine;
  /** The same models without the `dlib` profile's turned views (the crop and its mirror only). */
  let fast: FaceEngine;
  const analyses: ImageAnalysis[] = [];

  beforeAll(async () => {
    engine = await FaceEngine.load({ profile: 'default' });
    dlib = await FaceEngine.load({ profile: 'dlib' });
    fast = await FaceEngine.load({ profile: 'fast' });
    for (let n = 1; n <= 6; n++) analyses.push(await engine.analyse(sample(n)));
  });
  afterAll(async () => {
    await engine?.dispose();
    await dlib?.dispose();
    await fast?.dispose();
  });

  it('finds every face in each of the sample photos', () => {
    expect(analyses.map((a) => a.faces.length)).toEqual(FACES_IN_SAMPLE);
    for (const { faces, width, height } of analyses) {
      for (const { face } of faces) {
        const [x, y, w, h] = face.box;
        expect(x).toBeGreaterThanOrEqual(0);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(x + w).toBeLessThanOrEqual(width);
        expect(y + h).toBeLessThanOrEqual(height);
        expect(face.landmarks).toHaveLength(68);
        // The eyes and the nose lie inside the face box (give or take a tilted brow line, and the
        // RFB detector's box sitting a little low on a face).
        for (const [px, py] of face.keypoints.slice(0, 3)) {
          expect(px).toBeGreaterThan(x - 0.15 * w);
          expect(px).toBeLessThan(x + 1.15 * w);
          expect(py).toBeGreaterThan(y - 0.15 * h);
          expect(py).toBeLessThan(y + 1.15 * h);
        }
        expect(face.quality.interOcular).toBeGreaterThan(30);
        expect(face.quality.sharpness).toBeGreaterThan(0);
        expect(face.score).toBeGreaterThan(0.5);
      }
    }
  });

  it('returns unit-length embeddings of the profile size', () => {
    for (const { faces } of analyses) {
      for (const { embedding } of faces) {
        expect(embedding).toHaveLength(engine.profile.embedder.embeddingSize);
        expect(norm(embedding as Float32Array)).toBeCloseTo(1, 5);
      }
    }
  });

  it('embeds a batch of crops exactly as it embeds them one by one', async () => {
    const crops = analyses.flatMap((a) => a.faces.map((f) => f.crop)).slice(0, 7);
    const batched = await engine.embed(crops);
    for (const [i, crop] of crops.entries()) {
      const [single] = await engine.embed([crop]);
      expect(engine.similarity(batched[i] as Float32Array, single as Float32Array)).toBeGreaterThan(0.99999);
    }
  });

  it("embeds every face from its crop and the `dlib` profile's views, photos and frames alike", async () => {
    expect(dlib.viewsPerFace).toBe(3);
    expect(fast.viewsPerFace).toBe(1);
    expect(engine.viewsPerFace).toBe(1);
    expect(fast.profile.modelId).not.toBe(dlib.profile.modelId);
    const { faces } = await dlib.analyse(sample(1));
    const crops = faces.map((f) => f.crop);
    // A camera frame's crop (the embedder worker's input) gets the same views as a photo's face.
    const fromCrops = await dlib.embed(crops);
    const plain = await fast.embed(crops);
    for (const [i, face] of faces.entries()) {
      const embedding = face.embedding as Float32Array;
      expect(Array.from(fromCrops[i] as Float32Array)).toEqual(Array.from(embedding));
      // Another average of the same face: close to the crop's own, not equal to it.
      const similarity = dlib.similarity(embedding, plain[i] as Float32Array);
      expect(similarity).toBeLessThan(0.9999);
      expect(similarity).toBeGreaterThan(0.97);
    }
  });

  it('embeds a crop unchanged under a view turned 0 degrees at zoom 1, and refuses a zoom of 0', async () => {
    const embedder = { ...fast.profile.embedder, views: [{ degrees: 0, zoom: 1 }] };
    const same = await FaceEngine.load({ profile: { ...fast.profile, embedder } });
    try {
      const crops = (await fast.detect(sample(2))).faces.map((f) => f.crop);
      const [viewed, plain] = [await same.embed(crops), await fast.embed(crops)];
      for (const [i, embedding] of viewed.entries())
        expect(same.similarity(embedding, plain[i] as Float32Array)).toBeGreaterThan(0.999999);
    } finally {
      await same.dispose();
    }
    const broken = { ...engine.profile.embedder, views: [{ degrees: 3, zoom: 0 }] };
    await expect(FaceEngine.load({ profile: { ...engine.profile, embedder: broken } })).rejects.toMatchObject(
      {
        code: 'model_unavailable',
      },
    );
  });

  it('scores the same person in two photos above the threshold and different people below it', () => {
    // Faces the live gate would drop (a profile view) never reach the matcher; they are left out.
    // The woman on the right of sample1 is the one in the middle of sample3.
    const [first] = analyses[0]?.faces ?? [];
    const [same] = analyses[2]?.faces ?? [];
    const a = first?.embedding as Float32Array;
    expect(engine.similarity(a, same?.embedding as Float32Array)).toBeGreaterThanOrEqual(engine.threshold);
    for (const n of [1, 3, 4, 5]) {
      for (const { face, embedding } of analyses[n]?.faces ?? []) {
        if (!passesGate(face.quality, LIVE_GATE)) continue;
        expect(engine.similarity(a, embedding as Float32Array)).toBeLessThan(engine.threshold);
      }
    }
  });

  it('finds the same faces in an EXIF-rotated copy as in the upright photo', async () => {
    const upright = await sharp(sample(1)).resize(960).jpeg({ quality: 95 }).toBuffer();
    // Stored a quarter-turn counter-clockwise, tagged "turn clockwise to show".
    const stored = await sharp(upright)
      .rotate(270)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    const a = await engine.detect(upright);
    const b = await engine.detect(stored);
    expect([b.width, b.height]).toEqual([a.width, a.height]);
    expect(b.faces).toHaveLength(a.faces.length);
    for (const face of a.faces) {
      const best = Math.max(...b.faces.map((other) => iou(corners(face.face.box), corners(other.face.box))));
      expect(best).toBeGreaterThan(0.85);
    }
  });

  it('detects without embedding, and keeps only the largest faces when asked', async () => {
    const result = await engine.detect(sample(5), { maxFaces: 2 });
    expect(result.faces).toHaveLength(2);
    expect(result.faces.every((f) => f.embedding === undefined)).toBe(true);
    // Largest by the distance between the eyes, whatever box the detector drew.
    const eyes = analyses[4]?.faces.map((f) => f.face.quality.interOcular).sort((x, y) => y - x) ?? [];
    expect(result.faces.map((f) => f.face.quality.interOcular)).toEqual(eyes.slice(0, 2));
  });

  it('finds a face that fills the photo with the padded second pass; video frames skip that pass when empty', async () => {
    // The photo looks exist for the SSD detector (the `dlib` and `fast` profiles). Sample 3's first
    // face cut to its box and enlarged: SSD scores such a close-up below its
    // threshold until the photo is padded (FINDINGS.md).
    const [x, y, w, h] = (await fast.detect(sample(3))).faces[0]?.face.box ?? [0, 0, 0, 0];
    const side = Math.round(Math.max(w, h));
    const left = Math.max(0, Math.round(x + w / 2 - side / 2));
    const top = Math.max(0, Math.round(y + h / 2 - side / 2));
    const closeUp = await sharp(sample(3))
      .extract({ left, top, width: side, height: side })
      .resize(600, 600)
      .jpeg()
      .toBuffer();
    expect((await fast.detect(closeUp, { padding: 0 })).faces).toHaveLength(0);
    expect((await fast.detect(closeUp)).faces).toHaveLength(1);
    // 'closeUps' (what camera frames get) pads only after finding a large face, not after nothing.
    expect((await fast.detect(closeUp, { padding: 'closeUps' })).faces).toHaveLength(0);
    expect((await fast.detect(sample(3), { padding: 'closeUps' })).faces).toHaveLength(
      FACES_IN_SAMPLE[2] as number,
    );
  });

  it('looks at a photo with every border: a face the padded look misses is still found, and none twice', async () => {
    // A small photo (the padded look goes first) with a 120 px face and a 32 px one cut from sample
    // 1: with a 0.5 border the small face is too small for SSD; without one it is found.
    const cut = (face: number, size: number) => {
      const [x, y, w, h] = analyses[0]?.faces[face]?.face.box ?? [0, 0, 0, 0];
      return sharp(sample(1))
        .extract({
          left: Math.round(x - 0.3 * w),
          top: Math.round(y - 0.3 * h),
          width: Math.round(1.6 * w),
          height: Math.round(1.6 * h),
        })
        .resize(size, size)
        .toBuffer();
    };
    const photo = await sharp({ create: { width: 240, height: 240, channels: 3, background: '#808080' } })
      .composite([
        { input: await cut(0, 120), left: 10, top: 60 },
        { input: await cut(1, 32), left: 170, top: 100 },
      ])
      .jpeg({ quality: 95 })
      .toBuffer();
    expect((await fast.detect(photo, { padding: 0.5 })).faces).toHaveLength(1);
    const plain = (await fast.detect(photo, { padding: 0 })).faces;
    expect(plain).toHaveLength(2);
    const photoLooks = (await fast.detect(photo)).faces;
    expect(photoLooks).toHaveLength(2);
    for (const { face } of plain) {
      const same = photoLooks.filter((f) => iou(corners(f.face.box), corners(face.box)) > 0.3);
      expect(same).toHaveLength(1);
    }
    // Camera frames keep to one look where it found a face that is not a close-up.
    expect((await fast.detect(photo, { padding: 'closeUps' })).faces).toHaveLength(1);
  });

  it('gives a tight, dark close-up a second look with a border as wide as the photo', async () => {
    // Sample 3's first face cut inside its box, enlarged and darkened: nothing scores even 0.1 with
    // a border of half the photo or less (as LFW's Abdoulaye_Wade_0003).
    const [x, y, w, h] = (await fast.detect(sample(3))).faces[0]?.face.box ?? [0, 0, 0, 0];
    const side = Math.round(0.7 * Math.max(w, h));
    const photo = await sharp(sample(3))
      .extract({
        left: Math.round(x + w / 2 - side / 2),
        top: Math.round(y + h / 2 - side / 2),
        width: side,
        height: side,
      })
      .resize(600, 600)
      .linear(0.4, 0)
      .jpeg()
      .toBuffer();
    for (const padding of [0, 0.25, 0.5]) {
      expect((await fast.detect(photo, { padding, scoreThreshold: 0.1 })).faces).toHaveLength(0);
    }
    expect((await fast.detect(photo)).faces).toHaveLength(1);
  });

  it('finds faces 40 px wide in a 1080p frame (a person 10-15 m from the camera), live as in photos', async () => {
    // Issue 21: the SSD detector (1080p taken as 512x288) found none at 40 px.
    // Frontal and three-quarter faces (the profile view in sample 2 is not one a watchlist matches).
    const faces = analyses.flatMap((a, n) =>
      a.faces
        .filter((f) => Math.abs(f.face.quality.yaw) <= 35)
        .slice(0, 2)
        .map((f) => ({ n: n + 1, box: f.face.box })),
    );
    const layers = await Promise.all(
      faces.map(async ({ n, box: [x, y, w, h] }, i) => {
        // The face box and a margin, scaled so the face box is 40 px wide.
        const scale = 40 / w;
        const input = await sharp(sample(n))
          .extract({
            left: Math.max(0, Math.round(x - w / 2)),
            top: Math.max(0, Math.round(y - h / 2)),
            width: Math.round(2 * w),
            height: Math.round(2 * h),
          })
          .resize(Math.round(2 * w * scale), Math.round(2 * h * scale))
          .toBuffer();
        return { input, left: 100 + (i % 6) * 300, top: 150 + Math.floor(i / 6) * 400 };
      }),
    );
    const frame = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#767676' } })
      .composite(layers)
      .jpeg({ quality: 90 })
      .toBuffer();
    const found = (await engine.detect(frame, VIDEO_FRAME)).faces;
    // 10 of these 12 (many three-quarter views) at the default's 768x432; the small-faces benchmark
    // measures the target on 192 LFW faces a size (95% at 40 px). SSD found none.
    expect(found.length).toBeGreaterThanOrEqual(Math.ceil(0.8 * faces.length));
    // And each box one of the pasted faces, none elsewhere.
    for (const { face } of found) {
      const [x, y, w] = face.box;
      expect(w).toBeLessThan(80);
      const pasted = layers.filter(
        (l) => x + w / 2 > l.left && x + w / 2 < l.left + 120 && y > l.top - 20 && y < l.top + 140,
      );
      expect(pasted).toHaveLength(1);
    }
  });

  it('finds no face in a plain frame, not even a low-score box over the whole of it', async () => {
    // Issue 21: the photo second look (score 0.1) returned a 1920x1080 "face" scored 0.18.
    for (const background of [
      { r: 128, g: 128, b: 128 },
      { r: 20, g: 90, b: 40 },
    ]) {
      const frame = await sharp({ create: { width: 1920, height: 1080, channels: 3, background } })
        .jpeg()
        .toBuffer();
      expect((await engine.detect(frame)).faces).toEqual([]);
    }
  });

  it('rejects bytes that are not an image with unsupported_image', async () => {
    await expect(engine.analyse(Buffer.from('not a jpeg'))).rejects.toMatchObject({
      code: 'unsupported_image',
    });
  });
});
