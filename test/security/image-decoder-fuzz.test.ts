import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isVigilError } from '@vigil/core';
import { decodeImage, FaceEngine } from '@vigil/face-runtime';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concat, FUZZ_SEED, FuzzRandom, withinTime } from './fuzz-random.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SAMPLE = path.join(root, 'node_modules/@vladmandic/face-api/demo/sample1.jpg');
/** The codes `decodeImage` may answer with; anything else is a regression. */
const DECODE_CODES = new Set(['unsupported_image', 'image_too_large']);
/** One decode of a small image takes milliseconds; 5 s means it hangs. */
const CASE_LIMIT_MS = 5000;

type Outcome = { kind: 'image'; width: number; height: number } | { kind: 'error'; code: string };

/** Decodes and classifies: a well-formed image or a VigilError's code; any other throw fails the test. */
async function classify(bytes: Uint8Array, run: (b: Uint8Array) => Promise<Outcome>): Promise<Outcome> {
  try {
    return await withinTime(run(bytes), CASE_LIMIT_MS, `${bytes.length} bytes`);
  } catch (error) {
    if (isVigilError(error)) return { kind: 'error', code: error.code };
    throw error;
  }
}

const decodeOutcome = async (bytes: Uint8Array): Promise<Outcome> => {
  const image = await decodeImage(bytes);
  expect(image.data.length).toBe(image.width * image.height * 3);
  return { kind: 'image', width: image.width, height: image.height };
};

function tally(counts: Record<string, number>, outcome: Outcome): void {
  const key = outcome.kind === 'image' ? 'decoded' : outcome.code;
  counts[key] = (counts[key] ?? 0) + 1;
}

/** CRC-32 as PNG chunks use it, to forge an IHDR that passes the checksum. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A PNG whose IHDR declares `width` x `height` (valid checksum), followed by the original data. */
function pngWithDimensions(png: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(png);
  const view = new DataView(out.buffer);
  // Signature (8) + length (4) + "IHDR" (4): width at 16, height at 20, CRC after the 13-byte body.
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

/** A JPEG whose first SOF segment declares `width` x `height`. */
function jpegWithDimensions(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(jpeg);
  for (let i = 2; i + 9 < out.length; ) {
    if (out[i] !== 0xff) break;
    const marker = out[i + 1] as number;
    const length = ((out[i + 2] as number) << 8) | (out[i + 3] as number);
    if (marker >= 0xc0 && marker <= 0xc3) {
      out[i + 5] = (height >> 8) & 0xff;
      out[i + 6] = height & 0xff;
      out[i + 7] = (width >> 8) & 0xff;
      out[i + 8] = width & 0xff;
      return out;
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker in the JPEG');
}

describe(`image decoder fuzz (seed ${FUZZ_SEED})`, () => {
  let jpeg: Uint8Array;
  let png: Uint8Array;
  let webp: Uint8Array;

  beforeAll(async () => {
    const small = sharp(fs.readFileSync(SAMPLE)).resize(96, 64);
    jpeg = new Uint8Array(await small.clone().jpeg({ quality: 80 }).toBuffer());
    png = new Uint8Array(await small.clone().png().toBuffer());
    webp = new Uint8Array(await small.clone().webp().toBuffer());
  });

  it(`gives random bytes and format-looking junk a typed error or an image, never a crash or hang (seed ${FUZZ_SEED})`, async () => {
    const random = new FuzzRandom(FUZZ_SEED);
    const prefixes = [
      new Uint8Array([0xff, 0xd8, 0xff]),
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      new TextEncoder().encode('GIF89a'),
      new TextEncoder().encode('RIFF\0\0\0\0WEBP'),
      new Uint8Array([0x49, 0x49, 0x2a, 0x00]),
      new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999">'),
      new Uint8Array(0),
    ];
    const counts: Record<string, number> = {};
    for (let i = 0; i < 1500; i++) {
      const body = random.bytes(random.int(0, random.next() < 0.9 ? 256 : 8192));
      const bytes = concat(random.pick(prefixes), body);
      const outcome = await classify(bytes, decodeOutcome);
      tally(counts, outcome);
      if (outcome.kind === 'error') expect(DECODE_CODES, `case ${i}`).toContain(outcome.code);
    }
    console.info('random bytes, outcomes by code:', counts);
    expect(counts.unsupported_image).toBeGreaterThan(1000);
  });

  it(`gives mutated JPEG, PNG and WebP bytes (flips, cuts, splices) a typed error or a well-formed image (seed ${FUZZ_SEED})`, async () => {
    const random = new FuzzRandom(FUZZ_SEED + 1);
    const counts: Record<string, number> = {};
    const originals = [jpeg, png, webp];
    for (let i = 0; i < 1500; i++) {
      let bytes = random.pick(originals);
      for (let m = random.int(1, 3); m > 0; m--) bytes = random.mutate(bytes);
      // Header splices: one format's header on another's body.
      if (random.next() < 0.1)
        bytes = concat(random.pick(originals).slice(0, random.int(2, 64)), bytes.slice(random.int(0, 64)));
      const outcome = await classify(bytes, decodeOutcome);
      tally(counts, outcome);
      if (outcome.kind === 'error') expect(DECODE_CODES, `case ${i}`).toContain(outcome.code);
      else expect(outcome.width * outcome.height).toBeGreaterThan(0);
    }
    console.info('mutated images, outcomes by code:', counts);
    // Both branches were exercised: some mutations still decode, most do not.
    expect(counts.decoded ?? 0).toBeGreaterThan(0);
    expect(counts.unsupported_image ?? 0).toBeGreaterThan(0);
  });

  it(`refuses images declaring huge dimensions as image_too_large without decoding them (seed ${FUZZ_SEED})`, async () => {
    const random = new FuzzRandom(FUZZ_SEED + 2);
    const counts: Record<string, number> = {};
    const sizes: [number, number][] = [
      [65_535, 65_535],
      [100_000, 100_000],
      [0x7fffffff, 0x7fffffff],
      [1, 50_000_000],
      [50_000_000, 1],
      [7000, 7000],
    ];
    for (let i = 0; i < 60; i++) sizes.push([random.int(6400, 65_500), random.int(6400, 65_500)]);
    for (const [width, height] of sizes) {
      const forgedPng = await classify(pngWithDimensions(png, width, height), decodeOutcome);
      tally(counts, forgedPng);
      // PNG allows 2^31-1 per side; libspng refuses some sizes itself, which is an unsupported image.
      expect(forgedPng.kind, `PNG ${width}x${height}`).toBe('error');
      if (forgedPng.kind === 'error') expect(DECODE_CODES).toContain(forgedPng.code);
      if (width <= 65_535 && height <= 65_535) {
        const forgedJpeg = await classify(jpegWithDimensions(jpeg, width, height), decodeOutcome);
        tally(counts, forgedJpeg);
        // libjpeg itself refuses sides over 65,500 (JPEG_MAX_DIMENSION): an unsupported image.
        const expected = width > 65_500 || height > 65_500 ? [...DECODE_CODES] : ['image_too_large'];
        expect(forgedJpeg.kind, `JPEG ${width}x${height}`).toBe('error');
        if (forgedJpeg.kind === 'error')
          expect(expected, `JPEG ${width}x${height}`).toContain(forgedJpeg.code);
      }
    }
    console.info('huge declared dimensions, outcomes by code:', counts);
    expect(counts.image_too_large ?? 0).toBeGreaterThan(100);
  });

  describe('through the FaceEngine (decode, detect, align, embed)', () => {
    let engine: FaceEngine;
    beforeAll(async () => {
      engine = await FaceEngine.load({ threads: 1 });
    });
    afterAll(async () => engine?.dispose());

    it(`analyses mutated images to faces or a typed error, never a crash (seed ${FUZZ_SEED})`, async () => {
      const random = new FuzzRandom(FUZZ_SEED + 3);
      const counts: Record<string, number> = {};
      const face = new Uint8Array(
        await sharp(fs.readFileSync(SAMPLE))
          .extract({ left: 1300, top: 50, width: 600, height: 700 })
          .resize(200)
          .jpeg()
          .toBuffer(),
      );
      // Each case runs both models (~0.3 s on 2 cores): a few dozen, not thousands.
      for (let i = 0; i < 24; i++) {
        const bytes = random.mutate(random.next() < 0.5 ? face : jpeg);
        const outcome = await classify(bytes, async (b) => {
          const analysis = await engine.analyse(b);
          for (const f of analysis.faces) {
            expect(f.embedding?.every(Number.isFinite)).toBe(true);
            expect(f.face.box.every(Number.isFinite)).toBe(true);
          }
          return { kind: 'image', width: analysis.width, height: analysis.height };
        });
        tally(counts, outcome);
        if (outcome.kind === 'error') expect(DECODE_CODES, `case ${i}`).toContain(outcome.code);
      }
      console.info('FaceEngine.analyse, outcomes by code:', counts);
      expect(counts.decoded ?? 0).toBeGreaterThan(0);
    });
  });
});
