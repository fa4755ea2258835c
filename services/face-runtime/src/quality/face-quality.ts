import type { FaceQuality, Point, QualityGate } from '@vigil/core';

/**
 * Enrolment photos set what every later match is measured against, so the gate is strict: the
 * reference must be sharp, near frontal and at least as large as the embedder's crop needs.
 */
export const ENROLMENT_GATE: QualityGate = {
  // The embedders' canonical crops put 35-40 px between the eyes: below ~32 px the crop is upsampled
  // and the reference holds detail the camera never saw.
  minInterOcular: 32,
  // Laplacian variance of the middle of the aligned grey crop: a sharp 84 px-eye-distance portrait
  // measures ~180, the same after a 2.3 px Gaussian blur 20, LFW's small news photos 15-180
  // (median ~40). 20 refuses visibly soft references and few real ones.
  minSharpness: 20,
  // Both embedders lose about a tenth of their LFW accuracy past ~30 degrees of yaw.
  maxYaw: 30,
  maxPitch: 25,
  // Detector scores of clear frontal faces sit above 0.9; 0.7 still admits glasses and beards.
  minScore: 0.7,
};

/**
 * The live pipeline embeds what the camera gives: smaller, softer and more turned faces than an
 * enrolment photo, dropped only where the embedding would be noise.
 */
export const LIVE_GATE: QualityGate = {
  // Below ~16 px between the eyes the 112/150 px crop is mostly interpolation.
  minInterOcular: 16,
  // Half the enrolment floor: a live face is compared, not kept, and a soft face still matches
  // its sharp reference at a lower similarity, which the threshold handles.
  minSharpness: 10,
  maxYaw: 45,
  maxPitch: 35,
  minScore: 0.5,
};

/** Mean luma outside which a face is too dark or too washed out to enrol. */
export const BRIGHTNESS_RANGE: [min: number, max: number] = [40, 220];

/** Which checks of `gate` the quality fails, as short names (`size`, `sharpness`, `yaw`, ...). */
export function gateFailures(quality: FaceQuality, gate: QualityGate): string[] {
  const failures: string[] = [];
  if (quality.interOcular < gate.minInterOcular) failures.push('size');
  if (quality.sharpness < gate.minSharpness) failures.push('sharpness');
  if (Math.abs(quality.yaw) > gate.maxYaw) failures.push('yaw');
  if (Math.abs(quality.pitch) > gate.maxPitch) failures.push('pitch');
  if (quality.score < gate.minScore) failures.push('score');
  return failures;
}

/** Whether a face passes every check of `gate`. */
export function passesGate(quality: FaceQuality, gate: QualityGate): boolean {
  return gateFailures(quality, gate).length === 0;
}

// Nose tip depth in front of the eye plane over half the inter-ocular distance, and over the
// eye-to-mouth height (anthropometric means, Farkas 1994: ~32 mm, ~31 mm and ~70 mm).
const NOSE_DEPTH_OVER_HALF_EYES = 1;
const NOSE_DEPTH_OVER_FACE_HEIGHT = 0.45;
// Where the nose tip sits between the eye line (0) and the mouth line (1) in a level face: the
// ArcFace template's proportion.
const LEVEL_NOSE_POSITION = 0.494;

/**
 * Yaw and pitch in degrees estimated from the 5 keypoints (left eye, right eye, nose, left and
 * right mouth corner): the nose tip's offset from the face's mid-line, seen through the nose's
 * depth. Rough (+-10 degrees) but monotonic: good enough to gate on.
 */
export function estimatePose(keypoints: readonly Point[]): { yaw: number; pitch: number } {
  const [leftEye, rightEye, nose, leftMouth, rightMouth] = keypoints as [Point, Point, Point, Point, Point];
  const eyeX = (leftEye[0] + rightEye[0]) / 2;
  const eyeY = (leftEye[1] + rightEye[1]) / 2;
  const mouthX = (leftMouth[0] + rightMouth[0]) / 2;
  const mouthY = (leftMouth[1] + rightMouth[1]) / 2;
  // Work in the frame of the eye line, so that roll does not read as yaw.
  const angle = Math.atan2(rightEye[1] - leftEye[1], rightEye[0] - leftEye[0]);
  const cos = Math.cos(-angle);
  const sin = Math.sin(-angle);
  const rotate = (x: number, y: number): Point => [
    (x - eyeX) * cos - (y - eyeY) * sin,
    (x - eyeX) * sin + (y - eyeY) * cos,
  ];
  const halfEyes = Math.hypot(rightEye[0] - leftEye[0], rightEye[1] - leftEye[1]) / 2;
  const [noseX, noseY] = rotate(nose[0], nose[1]);
  const [mouthCentreX, mouthCentreY] = rotate(mouthX, mouthY);
  if (halfEyes === 0 || mouthCentreY <= 0) return { yaw: 0, pitch: 0 };
  // The mid-line runs from the eye centre to the mouth centre; the nose's sideways offset from it
  // at its own height is what yaw shows.
  const midlineX = (mouthCentreX * noseY) / mouthCentreY;
  const yaw = Math.atan((noseX - midlineX) / (halfEyes * NOSE_DEPTH_OVER_HALF_EYES));
  const pitch = Math.atan((noseY / mouthCentreY - LEVEL_NOSE_POSITION) / NOSE_DEPTH_OVER_FACE_HEIGHT);
  return { yaw: (yaw * 180) / Math.PI, pitch: (pitch * 180) / Math.PI };
}

// Sharpness and brightness look at the middle of the aligned crop (eyes, nose, mouth), not at the
// background or the black fill where a face touches the image edge.
const CENTRE_MARGIN = 0.2;

/**
 * Variance of the 4-neighbour Laplacian over the middle of the grey version of an aligned RGB
 * crop: low means blurred.
 */
export function sharpness(crop: Uint8Array, width: number, height: number): number {
  const grey = toGrey(crop, width * height);
  const x0 = Math.max(1, Math.floor(width * CENTRE_MARGIN));
  const y0 = Math.max(1, Math.floor(height * CENTRE_MARGIN));
  let sum = 0;
  let sumSquares = 0;
  let count = 0;
  for (let y = y0; y < height - y0; y++) {
    for (let x = x0; x < width - x0; x++) {
      const i = y * width + x;
      const value =
        (grey[i - 1] as number) +
        (grey[i + 1] as number) +
        (grey[i - width] as number) +
        (grey[i + width] as number) -
        4 * (grey[i] as number);
      sum += value;
      sumSquares += value * value;
      count++;
    }
  }
  if (count === 0) return 0;
  const mean = sum / count;
  return sumSquares / count - mean * mean;
}

/** Mean luma (BT.601) over the middle of an aligned RGB crop, 0..255. */
export function brightness(crop: Uint8Array, width: number, height: number): number {
  const grey = toGrey(crop, width * height);
  const x0 = Math.floor(width * CENTRE_MARGIN);
  const y0 = Math.floor(height * CENTRE_MARGIN);
  let sum = 0;
  let count = 0;
  for (let y = y0; y < height - y0; y++) {
    for (let x = x0; x < width - x0; x++, count++) sum += grey[y * width + x] as number;
  }
  return count > 0 ? sum / count : 0;
}

function toGrey(rgb: Uint8Array, pixels: number): Float32Array {
  const grey = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) {
    grey[i] =
      0.299 * (rgb[i * 3] as number) +
      0.587 * (rgb[i * 3 + 1] as number) +
      0.114 * (rgb[i * 3 + 2] as number);
  }
  return grey;
}
