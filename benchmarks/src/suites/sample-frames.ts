import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadConfig } from '@vigil/core';
import { FaceEngine } from '@vigil/face-runtime';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

/** The sample photos `@vladmandic/face-api` ships (demo/sample1..6.jpg, 3-6 people each). */
export function samplePhotos(): string[] {
  const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api')), '..', 'demo');
  return [1, 2, 3, 4, 5, 6].map((i) => path.join(demo, `sample${i}.jpg`));
}

/** A 1080p camera frame: the photo scaled to fit 1920x1080 and centred on black, as JPEG. */
export async function toFrame(file: string, width = 1920, height = 1080, quality = 90): Promise<Buffer> {
  return sharp(file)
    .rotate()
    .resize(width, height, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .jpeg({ quality })
    .toBuffer();
}

/** Every sample photo as a 1080p JPEG frame. */
export async function sampleFrames(): Promise<{ name: string; jpeg: Buffer }[]> {
  return Promise.all(
    samplePhotos().map(async (file) => ({ name: path.basename(file), jpeg: await toFrame(file) })),
  );
}

/** A face box [x, y, w, h] in the original photo's pixels. */
export type Box = [number, number, number, number];

/** The box grown by `factor` around its centre, clamped to the image. */
function grow(
  box: Box,
  factor: number,
  width: number,
  height: number,
): { left: number; top: number; width: number; height: number } {
  const [x, y, w, h] = box;
  const cx = x + w / 2;
  const cy = y + h / 2;
  const left = Math.max(0, Math.round(cx - (w * factor) / 2));
  const top = Math.max(0, Math.round(cy - (h * factor) / 2));
  return {
    left,
    top,
    width: Math.min(width - left, Math.round(w * factor)),
    height: Math.min(height - top, Math.round(h * factor)),
  };
}

/** An enrolment photo: the photo cropped around one face (`factor` times the box), as JPEG. */
export async function faceCrop(file: string, box: Box, factor = 2.2): Promise<Buffer> {
  const meta = await sharp(file).metadata();
  return sharp(file)
    .extract(grow(box, factor, meta.width ?? 0, meta.height ?? 0))
    .jpeg({ quality: 92 })
    .toBuffer();
}

/**
 * A 1080p frame showing one face only: the photo placed as `toFrame` places it, everything but the
 * region around `box` left black, so the face keeps the size it has in the crowd frame.
 */
export async function singleFaceFrame(file: string, box: Box, factor = 2): Promise<Buffer> {
  const meta = await sharp(file).metadata();
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const scale = Math.min(1920 / width, 1080 / height);
  const region = grow(box, factor, width, height);
  const patch = await sharp(file)
    .extract(region)
    .resize(Math.max(1, Math.round(region.width * scale)), Math.max(1, Math.round(region.height * scale)))
    .toBuffer();
  return sharp({ create: { width: 1920, height: 1080, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite([
      {
        input: patch,
        left: Math.round((1920 - width * scale) / 2 + region.left * scale),
        top: Math.round((1080 - height * scale) / 2 + region.top * scale),
      },
    ])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * The largest face of each face-api sample photo as the profile in `modelsDir`'s config finds it, and
 * that profile's default threshold: what the live benchmarks enrol and show their cameras.
 */
export async function largestSampleFaces(
  modelsDir: string,
): Promise<{ faces: { file: string; box: Box }[]; threshold: number }> {
  const engine = await FaceEngine.load({ ...FaceEngine.optionsFromConfig(loadConfig()), modelsDir });
  try {
    const faces: { file: string; box: Box }[] = [];
    for (const file of samplePhotos()) {
      const face = (await engine.detect(fs.readFileSync(file))).faces[0];
      if (face) faces.push({ file, box: face.face.box });
    }
    return { faces, threshold: engine.threshold };
  } finally {
    await engine.dispose();
  }
}
