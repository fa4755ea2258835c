import type { QualityGate } from '@vigil/core';
import { BRIGHTNESS_RANGE, ENROLMENT_GATE, gateFailures } from '../quality/face-quality.js';
import type { AnalysedFace, ImageAnalysis } from './face-engine.service.js';

/** Why an enrolment photo cannot be used: the contract's 422 codes. */
export type EnrolmentRejection = 'no_face' | 'multiple_faces' | 'face_too_small' | 'low_quality';

/** Which enrolment checks a face failed: `gateFailures`' names, and exposure. */
export type EnrolmentCheck = 'size' | 'sharpness' | 'yaw' | 'pitch' | 'score' | 'too dark' | 'too bright';

/**
 * The verdict on one enrolment photo: the usable face, or why there is none. A rejection keeps the
 * largest face it judged (`face`, absent for `no_face`), how many faces competed (`faces`) and the
 * checks that face failed (`failed`), so that a preview can show and word it.
 */
export type EnrolmentVerdict =
  | { ok: true; face: AnalysedFace }
  | {
      ok: false;
      code: EnrolmentRejection;
      message: string;
      face?: AnalysedFace;
      faces: number;
      failed: EnrolmentCheck[];
    };

/**
 * A second face at least this fraction of the largest face's eye distance makes the photo
 * ambiguous: a bystander far behind the subject does not.
 */
const RIVAL_FACE_FRACTION = 0.6;

/**
 * Picks the one face of an enrolment photo and checks it against `gate`: `no_face` when no face
 * scores the gate's minimum, `multiple_faces` when two similar-sized faces compete, `face_too_small`
 * below the gate's eye distance, `low_quality` for blur, pose, score or exposure.
 */
export function assessEnrolmentImage(
  analysis: ImageAnalysis,
  gate: QualityGate = ENROLMENT_GATE,
): EnrolmentVerdict {
  const faces = analysis.faces
    .filter((f) => f.face.score >= Math.min(gate.minScore, 0.5))
    .sort((a, b) => b.face.quality.interOcular - a.face.quality.interOcular);
  const [largest, second] = faces;
  if (!largest)
    return { ok: false, code: 'no_face', message: 'no face was found in the image', faces: 0, failed: [] };
  if (second && second.face.quality.interOcular >= RIVAL_FACE_FRACTION * largest.face.quality.interOcular) {
    return {
      ok: false,
      code: 'multiple_faces',
      message: `${faces.length} faces were found; an enrolment photo must show one person`,
      face: largest,
      faces: faces.length,
      failed: [],
    };
  }
  const quality = largest.face.quality;
  const failures = gateFailures(quality, gate) as EnrolmentCheck[];
  if (failures.includes('size')) {
    return {
      ok: false,
      code: 'face_too_small',
      message: `the face has ${quality.interOcular.toFixed(0)} px between the eyes; at least ${gate.minInterOcular} are needed`,
      face: largest,
      faces: faces.length,
      failed: failures,
    };
  }
  if (quality.brightness < BRIGHTNESS_RANGE[0]) failures.push('too dark');
  if (quality.brightness > BRIGHTNESS_RANGE[1]) failures.push('too bright');
  if (failures.length > 0) {
    return {
      ok: false,
      code: 'low_quality',
      message: `the face fails the enrolment checks: ${failures.join(', ')}`,
      face: largest,
      faces: faces.length,
      failed: failures,
    };
  }
  return { ok: true, face: largest };
}
