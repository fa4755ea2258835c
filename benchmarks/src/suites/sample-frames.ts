import { createRequire } from 'node:module';
import path from 'node:path';
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
