import type { FaceQuality } from '@vigil/core';
import { viewQuality } from '@vigil/core';
import { describe, expect, it } from 'vitest';
import { FaceTracker, iou } from './face-tracker.js';

const quality = (over: Partial<FaceQuality> = {}): FaceQuality => ({
  interOcular: 40,
  sharpness: 40,
  yaw: 0,
  pitch: 0,
  score: 0.9,
  brightness: 120,
  ...over,
});
const face = (x: number, y: number, size = 80, q: Partial<FaceQuality> = {}, usable = true) => ({
  box: [x, y, size, size] as const,
  quality: quality(q),
  usable,
});

describe('face tracker', () => {
  it('keeps one track for one person walking across the frame, and embeds the first view once', () => {
    const tracker = new FaceTracker();
    const ids = new Set<string>();
    let embeds = 0;
    for (let frame = 0; frame < 50; frame++) {
      // 12 px a frame at 10 fps: a brisk walk across a 1080p frame.
      const [decision] = tracker.update('cam', frame * 100, [face(100 + frame * 12, 300)]);
      ids.add(decision?.trackId as string);
      if (decision?.embed) embeds++;
    }
    expect(ids.size).toBe(1);
    expect(embeds).toBe(1);
  });

  it('re-embeds a track only when a clearly better view arrives', () => {
    const tracker = new FaceTracker();
    const views = [0.5, 0.52, 0.55, 0.7, 0.72, 0.9, 0.6].map((score, i) =>
      tracker.update('cam', i * 100, [face(200 + i * 5, 200, 80, { score })]),
    );
    expect(views.map((v) => v[0]?.embed)).toEqual([true, false, false, true, false, true, false]);
    expect(new Set(views.map((v) => v[0]?.trackId)).size).toBe(1);
  });

  it('gives two people two tracks, and a new track after the person has been gone too long', () => {
    const tracker = new FaceTracker({ maxAgeMs: 1000 });
    const first = tracker.update('cam', 0, [face(100, 100), face(900, 100)]);
    expect(first[0]?.trackId).not.toBe(first[1]?.trackId);
    const second = tracker.update('cam', 100, [face(905, 102), face(104, 101)]);
    expect(second[0]?.trackId).toBe(first[1]?.trackId);
    expect(second[1]?.trackId).toBe(first[0]?.trackId);
    // The camera keeps delivering frames without that face.
    for (let at = 200; at < 2000; at += 100) tracker.update('cam', at, [face(905, 102)]);
    const later = tracker.update('cam', 2000, [face(104, 101)]);
    expect(later[0]?.trackId).not.toBe(first[0]?.trackId);
    expect(later[0]?.embed).toBe(true);
  });

  it('keeps a track across the longer gaps of a detector that fell behind (regression: one person, two alerts)', () => {
    const tracker = new FaceTracker({ maxAgeMs: 1500 });
    // Frames reach the tracker 2 s apart: longer than maxAge, but each gap is the detector's pace.
    const ids = [0, 2000, 4000, 6000].map(
      (at, i) => tracker.update('cam', at, [face(100 + i * 10, 100)])[0]?.trackId,
    );
    expect(new Set(ids).size).toBe(1);
  });

  it('does not embed views that fail the quality gate but still follows them', () => {
    const tracker = new FaceTracker();
    const blurred = tracker.update('cam', 0, [face(100, 100, 80, {}, false)]);
    expect(blurred[0]?.embed).toBe(false);
    const sharp = tracker.update('cam', 100, [face(104, 100)]);
    expect(sharp[0]?.trackId).toBe(blurred[0]?.trackId);
    expect(sharp[0]?.embed).toBe(true);
  });

  it('keeps cameras apart', () => {
    const tracker = new FaceTracker();
    const a = tracker.update('a', 0, [face(100, 100)]);
    const b = tracker.update('b', 0, [face(100, 100)]);
    expect(a[0]?.trackId).not.toBe(b[0]?.trackId);
    expect(b[0]?.embed).toBe(true);
    tracker.forget('a');
    expect(tracker.activeTracks('a')).toBe(0);
    expect(tracker.activeTracks('b')).toBe(1);
  });

  it('scores views by confidence, size, sharpness and pose', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 10, 10])).toBeCloseTo(1 / 3);
    expect(viewQuality(quality({ yaw: 40 }))).toBeLessThan(viewQuality(quality()));
    expect(viewQuality(quality({ interOcular: 20 }))).toBeLessThan(viewQuality(quality()));
    expect(viewQuality(quality({ sharpness: 5 }))).toBeLessThan(viewQuality(quality()));
  });
});
