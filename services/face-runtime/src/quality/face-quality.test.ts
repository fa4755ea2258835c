import type { FaceQuality, Point } from '@vigil/core';
import { describe, expect, it } from 'vitest';
import { ENROLMENT_GATE, estimatePose, gateFailures, LIVE_GATE, sharpness } from './face-quality.js';

const FRONTAL: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

describe('estimatePose', () => {
  it('reads the canonical frontal template as level and frontal', () => {
    const { yaw, pitch } = estimatePose(FRONTAL);
    expect(Math.abs(yaw)).toBeLessThan(2);
    expect(Math.abs(pitch)).toBeLessThan(2);
  });

  it('reads a nose moved to the image right as positive yaw, growing with the offset', () => {
    const turned = (dx: number) => FRONTAL.map(([x, y], i): Point => (i === 2 ? [x + dx, y] : [x, y]));
    const small = estimatePose(turned(5)).yaw;
    const large = estimatePose(turned(12)).yaw;
    expect(small).toBeGreaterThan(5);
    expect(large).toBeGreaterThan(small);
    expect(estimatePose(turned(-12)).yaw).toBeCloseTo(-large, 1);
  });

  it('ignores roll: the template rotated 30 degrees is still frontal', () => {
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const rolled = FRONTAL.map(([x, y]): Point => [x * c - y * s, x * s + y * c]);
    const { yaw, pitch } = estimatePose(rolled);
    expect(Math.abs(yaw)).toBeLessThan(2);
    expect(Math.abs(pitch)).toBeLessThan(2);
  });

  it('reads a nose nearer the mouth as looking down (positive pitch)', () => {
    const down = FRONTAL.map(([x, y], i): Point => (i === 2 ? [x, y + 8] : [x, y]));
    expect(estimatePose(down).pitch).toBeGreaterThan(10);
  });
});

describe('sharpness', () => {
  it('is high for a checkerboard and zero for a flat crop', () => {
    const size = 50;
    const checker = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) {
      const v = ((i % size) + Math.floor(i / size)) % 2 ? 255 : 0;
      checker.fill(v, i * 3, i * 3 + 3);
    }
    expect(sharpness(checker, size, size)).toBeGreaterThan(1000);
    expect(sharpness(new Uint8Array(size * size * 3).fill(128), size, size)).toBe(0);
  });
});

describe('quality gates', () => {
  const good: FaceQuality = {
    interOcular: 60,
    sharpness: 200,
    yaw: 5,
    pitch: -3,
    score: 0.95,
    brightness: 120,
  };

  it('pass a good face and name each failed check', () => {
    expect(gateFailures(good, ENROLMENT_GATE)).toEqual([]);
    expect(gateFailures({ ...good, interOcular: 10, yaw: -50 }, ENROLMENT_GATE)).toEqual(['size', 'yaw']);
  });

  it('are stricter at enrolment than live', () => {
    const turned = { ...good, yaw: 40, interOcular: 20 };
    expect(gateFailures(turned, ENROLMENT_GATE)).toEqual(['size', 'yaw']);
    expect(gateFailures(turned, LIVE_GATE)).toEqual([]);
  });
});
