import type { QualityGate } from '@vigil/core';
import { BRIGHTNESS_RANGE, ENROLMENT_GATE, gateFailures } from '../quality/face-quality.js';
import type { AnalysedFace, ImageAnalysis } from './face-engine.service.js';

/** Why an enrolment photo cannot be used: the contract's 422 codes. */
export type EnrolmentRejection = 'no_face' | 'multiple_faces' | 'face_too_small' | 'low_quality';

/** The verdict on one enrolment photo: the usable face, or why there is none. */
export type EnrolmentVerdict =
  | { ok: true; face: AnalysedFace }
  | { ok: false; code: EnrolmentRejection; message: string };

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
  if (!largest) return { ok: false, code: 'no_face', message: 'no face was found in the image' };
  if (second && second.face.quality.interOcular >= RIVAL_FACE_FRACTION * largest.face.quality.interOcular) {
    return {
      ok: false,
      code: 'multiple_faces',
      message: `${faces.length} faces were found; an enrolment photo must show one person`,
    };
  }
  const quality = largest.face.quality;
  const failures = gateFailures(quality, gate);
  if (failures.includes('size')) {
    return {
      ok: false,
      code: 'face_too_small',
      message: `the face has ${quality.interOcular.toFixed(0)} px between the eyes; at least ${gate.minInterOcular} are needed`,
    };
  }
  if (quality.brightness < BRIGHTNESS_RANGE[0]) failures.push('too dark');
  if (quality.brightness > BRIGHTNESS_RANGE[1]) failures.push('too bright');
  if (failures.length > 0) {
    return {
      ok: false,
      code: 'low_quality',
      message: `the face fails the enrolment checks: ${failures.join(', ')}`,
    };
  }
  return { ok: true, face: largest };
}
