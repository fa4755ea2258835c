import { describe, expect, it } from 'vitest';
import { TrackFusion, viewWeight } from './track-fusion.js';

const quality = { interOcular: 60, sharpness: 60, yaw: 0, pitch: 0, score: 1, brightness: 128 };

describe('track fusion', () => {
  it("searches with the quality-weighted mean of a track's views, at unit length", () => {
    const fusion = new TrackFusion();
    expect([...fusion.add('d/c/t', '1', [1, 0], 3, 0).vector]).toEqual([1, 0]);
    const fused = fusion.add('d/c/t', '2', [0, 1], 1, 10);
    // (3 * [1, 0] + 1 * [0, 1]) / |...|
    expect(fused.views).toBe(2);
    expect(fused.vector[0]).toBeCloseTo(3 / Math.sqrt(10), 6);
    expect(fused.vector[1]).toBeCloseTo(1 / Math.sqrt(10), 6);
    // Another track of the same camera is its own person.
    expect([...fusion.add('d/c/u', '2', [0, 1], 1, 10).vector]).toEqual([0, 1]);
  });

  it('counts a redelivered view once', () => {
    const fusion = new TrackFusion();
    fusion.add('d/c/t', '1', [1, 0], 1, 0);
    fusion.add('d/c/t', '2', [0, 1], 1, 1);
    const again = fusion.add('d/c/t', '2', [0, 1], 1, 2);
    expect(again.views).toBe(2);
    expect(again.vector[0]).toBeCloseTo(again.vector[1] as number, 6);
  });

  it('weights a view by its quality: a sharp frontal close view outweighs a small turned blurred one', () => {
    const good = viewWeight(quality);
    const poor = viewWeight({ ...quality, interOcular: 15, sharpness: 8, yaw: 40 });
    expect(good).toBeGreaterThan(4 * poor);
    expect(viewWeight(undefined)).toBeGreaterThan(0);
    expect(viewWeight({ ...quality, score: Number.NaN })).toBeGreaterThan(0);
  });

  it('forgets idle tracks, a stopped deployment, and the oldest track when full (counted)', () => {
    let evicted = 0;
    const fusion = new TrackFusion({ idleMs: 100, maxTracks: 2, onEvicted: () => evicted++ });
    fusion.add('d1/c/a', '1', [1, 0], 1, 0);
    fusion.add('d1/c/b', '1', [1, 0], 1, 50);
    fusion.add('d2/c/a', '1', [1, 0], 1, 60); // full: d1/c/a (seen longest ago) makes way
    expect(evicted).toBe(1);
    expect(fusion.size).toBe(2);
    fusion.forgetPrefix('d2/');
    expect(fusion.size).toBe(1);
    fusion.sweep(151); // d1/c/b idle for 101 ms
    expect(fusion.size).toBe(0);
    // A forgotten track starts again from its next view alone.
    expect([...fusion.add('d1/c/b', '2', [0, 1], 1, 200).vector]).toEqual([0, 1]);
  });

  it('starts a track again when the embedding size changes (another model)', () => {
    const fusion = new TrackFusion();
    fusion.add('d/c/t', '1', [1, 0], 1, 0);
    expect([...fusion.add('d/c/t', '2', [0, 0, 1], 1, 1).vector]).toEqual([0, 0, 1]);
  });
});
