import type { Point } from '@vigil/core';

type Keypoints = [Point, Point, Point, Point, Point];

function mean(points: readonly Point[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i <= to; i++) {
    x += (points[i] as Point)[0];
    y += (points[i] as Point)[1];
  }
  const n = to - from + 1;
  return [x / n, y / n];
}

/**
 * The 5 alignment keypoints from dlib's 68-point layout (iBUG 300-W): eye centres as the means of
 * points 36-41 and 42-47, nose tip 30, mouth corners 48 and 54; left and right as seen in the image.
 */
export function keypointsFrom68(points: readonly Point[]): Keypoints {
  if (points.length !== 68) throw new RangeError(`expected 68 landmarks, got ${points.length}`);
  return [
    mean(points, 36, 41),
    mean(points, 42, 47),
    points[30] as Point,
    points[48] as Point,
    points[54] as Point,
  ];
}

/** The 5 keypoints of a 5-landmark detector, as they are. */
export function keypointsFrom5(points: readonly Point[]): Keypoints {
  if (points.length !== 5) throw new RangeError(`expected 5 landmarks, got ${points.length}`);
  return [points[0], points[1], points[2], points[3], points[4]] as Keypoints;
}
