import type { EnrolmentCheck } from '@vigil/face-runtime';
import { ENROLMENT_GATE } from '@vigil/face-runtime';

/** What a preview knows of one photo's verdict: enrolment's code and the gate's details. */
export interface VerdictFacts {
  code: string;
  message: string;
  /** Faces that competed (multiple_faces). */
  faces?: number;
  /** The checks the face failed (low_quality, face_too_small). */
  failed?: readonly EnrolmentCheck[];
  /** Pixels between the eyes of the judged face. */
  interOcular?: number;
}

const NUMBERS = ['No', 'One', 'Two', 'Three', 'Four', 'Five'];

/** Why a face failed the quality checks, in the words a watchlist manager acts on. */
const CHECK_WORDS: Record<EnrolmentCheck, string> = {
  size: 'Face too small',
  sharpness: 'Too blurred',
  yaw: 'Looking away',
  pitch: 'Looking up or down',
  score: 'Face not clear enough',
  'too dark': 'Too dark',
  'too bright': 'Too bright',
};

/**
 * One photo's enrolment verdict in a line: "Good: one clear face", "No face found", "Two faces:
 * crop to one person", "Face too small (38 px between the eyes; at least 32)", "Too blurred"...
 * A code without words keeps enrolment's own message.
 */
export function verdictWords(verdict: VerdictFacts): string {
  switch (verdict.code) {
    case 'ok':
      return 'Good: one clear face';
    case 'no_face':
      return 'No face found';
    case 'multiple_faces':
      return `${NUMBERS[verdict.faces ?? 2] ?? verdict.faces} faces: crop to one person`;
    case 'face_too_small':
      return verdict.interOcular === undefined
        ? 'Face too small'
        : `Face too small (${Math.round(verdict.interOcular)} px between the eyes; at least ${ENROLMENT_GATE.minInterOcular})`;
    case 'low_quality': {
      const words = (verdict.failed ?? []).map((check) => CHECK_WORDS[check]);
      return words.length > 0
        ? words.map((word, i) => (i === 0 ? word : word.toLowerCase())).join(', ')
        : 'Face too poor to enrol';
    }
    case 'duplicate_image':
      return 'Already enrolled in this watchlist';
    case 'image_too_large':
      return 'File too large';
    case 'unsupported_image':
      return 'Not a photo Vigil can read: use a JPEG, PNG or WebP image';
    default:
      return `${verdict.message.charAt(0).toUpperCase()}${verdict.message.slice(1)}`;
  }
}
