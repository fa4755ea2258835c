import { describe, expect, it } from 'vitest';
import { SceneFrames } from './scene-frames.js';

const face = { box: [10, 10, 40, 40] as const, trackId: 't1' };

describe('SceneFrames: the detector holds frames for alerts’ scenes only briefly', () => {
  it('holds a copy of a frame until the hold time passes, then zero-fills it and lets go', () => {
    const frames = new SceneFrames(1000, 4);
    const jpeg = Uint8Array.from([0xff, 0xd8, 1, 2, 3]);
    frames.hold('d/c', { sequence: 7, capturedAtMs: 70, jpeg }, [face], 0);
    jpeg.fill(9); // the message's own buffer may be reused: the held copy is not
    const held = frames.find('d/c', 7, 70, 500);
    expect(held?.jpeg).toEqual(Uint8Array.from([0xff, 0xd8, 1, 2, 3]));
    expect(held?.faces).toEqual([face]);
    // Asked for once, still held: two people on the list may alert in one frame.
    expect(frames.find('d/c', 7, 70, 600)).toBe(held);
    expect(frames.find('d/c', 7, 70, 1001)).toBeUndefined();
    expect(held?.jpeg.every((b) => b === 0)).toBe(true);
    expect(frames.size).toBe(0);
  });

  it('keeps at most the newest frames of each camera, and clear() lets go of every one', () => {
    const frames = new SceneFrames(10_000, 2);
    const held = [1, 2, 3].map((sequence) => {
      const jpeg = Uint8Array.from([sequence]);
      frames.hold('d/c', { sequence, capturedAtMs: sequence, jpeg }, [face], 0);
      return frames.find('d/c', sequence, sequence, 0);
    });
    expect(frames.find('d/c', 1, 1, 0)).toBeUndefined();
    expect(held[0]?.jpeg[0]).toBe(0);
    expect(frames.size).toBe(2);
    frames.clear();
    expect(frames.size).toBe(0);
    expect(held[2]?.jpeg[0]).toBe(0);
    expect(frames.find('d/other', 3, 3, 0)).toBeUndefined();
  });
});
