export { assessEnrolmentImage, type EnrolmentRejection, type EnrolmentVerdict } from './enrolment.service.js';
export { type DetectOptions, type FaceCandidate, FaceDetector } from './face-detector.service.js';
export {
  type AnalysedFace,
  type AnalyseOptions,
  FaceEngine,
  type FaceEngineOptions,
  type ImageAnalysis,
} from './face-engine.service.js';
export { type Affine, invertAffine, similarityTransform, warpAffine } from './face-geometry.js';
export {
  BRIGHTNESS_RANGE,
  ENROLMENT_GATE,
  estimatePose,
  gateFailures,
  LIVE_GATE,
  passesGate,
} from './face-quality.js';
export { decodeImage, MAX_INPUT_PIXELS, type RgbImage } from './image.repository.js';
export { keypointsFrom68 } from './landmarks.js';
export {
  bestThreshold,
  type LfwPair,
  parseLfwPairs,
  type ScoredPair,
  tenFoldVerification,
  trueAcceptRate,
  type VerificationResult,
} from './lfw-protocol.js';
export { INSIGHTFACE_FILES, resolveProfile } from './profile.repository.js';
export { VIDEO_FRAME } from './worker/frame-analyser.js';
