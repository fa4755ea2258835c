import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ffmpegPath } from './ffmpeg-process.js';
import { MjpegSplitter } from './mjpeg-splitter.js';

const FRAMES = 6;
let stream: Buffer;

/** Splits `data` into pieces of pseudo-random sizes (deterministic), like a pipe does. */
function chunks(data: Buffer, seed: number, max: number): Buffer[] {
  const out: Buffer[] = [];
  let state = seed;
  for (let i = 0; i < data.length; ) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (state % max);
    out.push(data.subarray(i, i + size));
    i += size;
  }
  return out;
}

function isJpeg(frame: Buffer): boolean {
  return frame[0] === 0xff && frame[1] === 0xd8 && frame.at(-2) === 0xff && frame.at(-1) === 0xd9;
}

describe('MJPEG splitter', () => {
  beforeAll(() => {
    // Real ffmpeg output: a noisy test pattern so the entropy-coded data holds many FF 00 pairs.
    const result = spawnSync(
      ffmpegPath(),
      [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=320x240:rate=10,noise=alls=40:allf=t`,
        '-frames:v',
        String(FRAMES),
        '-f',
        'image2pipe',
        '-c:v',
        'mjpeg',
        '-q:v',
        '3',
        'pipe:1',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    expect(result.status).toBe(0);
    stream = result.stdout;
  });

  it('cuts ffmpeg image2pipe output into its frames whatever the pipe chunk sizes', () => {
    for (const [seed, max] of [
      [1, 61],
      [2, 1000],
      [3, 65_536],
    ] as const) {
      const splitter = new MjpegSplitter();
      const frames = chunks(stream, seed, max).flatMap((c) => splitter.push(c));
      expect(frames).toHaveLength(FRAMES);
      expect(frames.every(isJpeg)).toBe(true);
      expect(Buffer.concat(frames).equals(stream)).toBe(true);
      expect(splitter.buffered).toBe(0);
      expect(splitter.discarded).toBe(0);
    }
  });

  it('does not end a frame at an FF D9 inside a marker segment (regression: naive EOI search)', () => {
    const first = new MjpegSplitter().push(stream)[0] as Buffer;
    // An APP1 segment whose payload holds FF D9 and FF D8, inserted right after SOI.
    const payload = Buffer.from([0x45, 0x78, 0xff, 0xd9, 0xff, 0xd8, 0x00, 0x00]);
    const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, 0, payload.length + 2]), payload]);
    const crafted = Buffer.concat([first.subarray(0, 2), app1, first.subarray(2)]);
    const frames = new MjpegSplitter().push(Buffer.concat([crafted, first]));
    expect(frames.map((f) => f.length)).toEqual([crafted.length, first.length]);
  });

  it('skips garbage between frames and counts it', () => {
    const first = new MjpegSplitter().push(stream)[0] as Buffer;
    const splitter = new MjpegSplitter();
    const garbage = Buffer.from('not a jpeg at all');
    const frames = splitter.push(Buffer.concat([garbage, first, garbage, first]));
    expect(frames).toHaveLength(2);
    expect(splitter.discarded).toBe(garbage.length * 2);
  });

  it('abandons a frame that grows past the size limit instead of buffering forever', () => {
    const splitter = new MjpegSplitter(4096);
    const big = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02]),
      Buffer.alloc(10_000, 0x11),
    ]);
    expect(splitter.push(big)).toHaveLength(0);
    expect(splitter.buffered).toBeLessThan(4096 + 2);
    const first = new MjpegSplitter().push(stream)[0] as Buffer;
    expect(splitter.push(first)).toHaveLength(1);
  });
});
