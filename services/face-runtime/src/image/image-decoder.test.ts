import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './image-decoder.js';

const require = createRequire(import.meta.url);
const samples = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = fs.readFileSync(path.join(samples, 'sample1.jpg'));

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid-looking PNG header claiming `width` x `height` grey pixels: a decompression bomb. */
function pngBomb(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // greyscale
  // One row of zeros compresses to a few bytes; the claimed size is what matters.
  const row = zlib.deflateSync(Buffer.alloc(width + 1));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', row),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('decodeImage', () => {
  it('decodes a JPEG to interleaved 8-bit RGB', async () => {
    const image = await decodeImage(sample);
    expect([image.width, image.height]).toEqual([1920, 1280]);
    expect(image.data.length).toBe(1920 * 1280 * 3);
  });

  it('rejects a 0-byte file as unsupported_image', async () => {
    await expect(decodeImage(new Uint8Array(0))).rejects.toMatchObject({ code: 'unsupported_image' });
  });

  it('rejects a text file named .jpg as unsupported_image', async () => {
    const text = Buffer.from('this is not a photo, just text saved as face.jpg\n'.repeat(20));
    await expect(decodeImage(text)).rejects.toMatchObject({ code: 'unsupported_image' });
  });

  it('rejects random bytes as unsupported_image', async () => {
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 2654435761) >>> 24;
    await expect(decodeImage(garbage)).rejects.toMatchObject({ code: 'unsupported_image' });
  });

  it('rejects a truncated JPEG as unsupported_image', async () => {
    const truncated = sample.subarray(0, Math.floor(sample.length / 2));
    await expect(decodeImage(truncated)).rejects.toMatchObject({ code: 'unsupported_image' });
  });

  it('rejects a JPEG with only its header as unsupported_image', async () => {
    await expect(decodeImage(sample.subarray(0, 600))).rejects.toMatchObject({ code: 'unsupported_image' });
  });

  it('rejects a 30000x30000 PNG decompression bomb as image_too_large without decoding it', async () => {
    const bomb = pngBomb(30000, 30000);
    expect(bomb.length).toBeLessThan(1000);
    await expect(decodeImage(bomb)).rejects.toMatchObject({ code: 'image_too_large' });
  });

  it('rejects an image above a caller-given pixel limit as image_too_large', async () => {
    await expect(decodeImage(sample, { maxPixels: 1000 * 1000 })).rejects.toMatchObject({
      code: 'image_too_large',
    });
  });

  it('converts a CMYK JPEG to RGB of the same colours', async () => {
    const small = await sharp(sample).resize(96, 64).toBuffer();
    const cmyk = await sharp(small).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const rgb = await decodeImage(small);
    const fromCmyk = await decodeImage(cmyk);
    expect([fromCmyk.width, fromCmyk.height]).toEqual([96, 64]);
    expect(fromCmyk.data.length).toBe(96 * 64 * 3);
    expect(meanAbsoluteDifference(rgb.data, fromCmyk.data)).toBeLessThan(20);
  });

  it('converts a 16-bit PNG to 8-bit RGB of the same colours', async () => {
    const small = await sharp(sample).resize(96, 64).png().toBuffer();
    const deep = await sharp(small).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const rgb = await decodeImage(small);
    const fromDeep = await decodeImage(deep);
    expect(fromDeep.data.length).toBe(96 * 64 * 3);
    expect(meanAbsoluteDifference(rgb.data, fromDeep.data)).toBeLessThan(2);
  });

  it('expands a greyscale image with alpha to RGB', async () => {
    const grey = await sharp(sample).resize(40, 30).greyscale().ensureAlpha().png().toBuffer();
    const image = await decodeImage(grey);
    expect(image.data.length).toBe(40 * 30 * 3);
    expect(image.data[0]).toBe(image.data[1]);
  });

  it('applies the EXIF orientation', async () => {
    const small = await sharp(sample).resize(90, 60).toBuffer();
    // Stored turned a quarter counter-clockwise, with the tag that says "turn clockwise to show".
    const stored = await sharp(small)
      .rotate(270)
      .withMetadata({ orientation: 6 })
      .jpeg({ quality: 95 })
      .toBuffer();
    expect((await sharp(stored).metadata()).width).toBe(60);
    const upright = await decodeImage(small);
    const shown = await decodeImage(stored);
    expect([shown.width, shown.height]).toEqual([90, 60]);
    expect(meanAbsoluteDifference(upright.data, shown.data)).toBeLessThan(8);
  });
});

function meanAbsoluteDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
}
