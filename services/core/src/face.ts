/**
 * The face types every role shares. Coordinates are pixels of the original (EXIF-rotated) image,
 * origin top-left.
 */

export type Point = [x: number, y: number];

/** Quality measures computed for every detected face; enrolment and the pipeline gate on them. */
export interface FaceQuality {
  /** Distance between the eye centres, in pixels of the original image. */
  interOcular: number;
  /** Variance of the Laplacian of the aligned grey crop: low is blurred. */
  sharpness: number;
  /** Estimated head yaw in degrees (0 frontal, + turned to the image's right). */
  yaw: number;
  /** Estimated head pitch in degrees (0 level, + looking down). */
  pitch: number;
  /** Detector confidence 0..1. */
  score: number;
  /** Mean luma of the face crop 0..255 (too dark / too bright). */
  brightness: number;
}

/**
 * One number that orders views of the same face: detector confidence, size (up to a comfortably
 * recognisable 60 px between the eyes), sharpness and frontality. The detector sends a track's view on
 * when it beats the last one sent; the matcher weights a track's views by it when it fuses them.
 */
export function viewQuality(q: FaceQuality): number {
  const size = Math.min(1, q.interOcular / 60);
  const sharp = Math.min(1, q.sharpness / 60);
  const rad = Math.PI / 180;
  const pose = Math.max(0, Math.cos(q.yaw * rad)) * Math.max(0, Math.cos(q.pitch * rad));
  return q.score * size * (0.5 + 0.5 * sharp) * pose;
}

export interface DetectedFace {
  /** [x, y, width, height]. */
  box: [number, number, number, number];
  score: number;
  /**
   * Landmarks in the detector's layout: 5 points (left eye, right eye, nose, left mouth corner,
   * right mouth corner, as seen in the image) for SCRFD-style detectors, 68 for dlib-style ones.
   */
  landmarks: Point[];
  /** The 5 canonical points derived from `landmarks`, used for alignment. */
  keypoints: [Point, Point, Point, Point, Point];
  quality: FaceQuality;
}

/** Named quality thresholds: enrolment is strict, the live pipeline tolerates more. */
export interface QualityGate {
  /** Inter-ocular distance in pixels below which a face is too small. */
  minInterOcular: number;
  /** Laplacian variance below which a face is too blurred. */
  minSharpness: number;
  /** Absolute yaw above which a face is too far turned. */
  maxYaw: number;
  /** Absolute pitch above which a face is too far tilted. */
  maxPitch: number;
  /** Detector score below which a face is not trusted. */
  minScore: number;
}
