// Where a picture becomes faces and embeddings: decode, detect, align, judge quality, embed, and the
// model profiles that say which ONNX files do it. The detector and embedder roles are bus workers over
// this package; the API (enrolment), the CLI and the benchmarks use it directly.
export { type Affine, invertAffine, similarityTransform, warpAffine } from './alignment/face-geometry.js';
export { type DetectOptions, type FaceCandidate, FaceDetector } from './detection/face-detector.service.js';
export { keypointsFrom68 } from './detection/landmarks.js';
export { FaceEmbedder, mirror } from './embedding/face-embedder.service.js';
export { cosineSimilarity, l2Normalise } from './embedding/similarity.js';
export { type PackOptions, packTensor } from './embedding/tensor.js';
export { centralFace } from './engine/central-face.js';
export {
  assessEnrolmentImage,
  type EnrolmentCheck,
  type EnrolmentRejection,
  type EnrolmentVerdict,
} from './engine/enrolment-gate.js';
export {
  type AnalysedFace,
  type AnalyseOptions,
  FaceEngine,
  type FaceEngineOptions,
  type ImageAnalysis,
} from './engine/face-engine.service.js';
export { decodeImage, MAX_INPUT_PIXELS, type RgbImage } from './image/image-decoder.js';
export {
  bestThreshold,
  type LfwPair,
  parseLfwPairs,
  type ScoredPair,
  tenFoldVerification,
  trueAcceptRate,
  type VerificationResult,
} from './lfw/lfw-protocol.js';
export { ModelError } from './onnx/model.errors.js';
export {
  type ImageInput,
  measureInference,
  OnnxModel,
  type OutputTensor,
  type SessionOptions,
} from './onnx/onnx-session.js';
export * from './profiles/manifest.js';
export * from './profiles/profile.js';
export { INSIGHTFACE_FILES, resolveProfile } from './profiles/profile-loader.js';
export * from './profiles/ssd-anchors.js';
export {
  BRIGHTNESS_RANGE,
  ENROLMENT_GATE,
  estimatePose,
  gateFailures,
  LIVE_GATE,
  passesGate,
} from './quality/face-quality.js';
export {
  BLUR_MARGIN,
  type ComposedScene,
  composeScene,
  LIVE_VIEW_MAX_WIDTH,
  regionSharpness,
  SCENE_MAX_WIDTH,
  type SceneBox,
  type SceneOptions,
} from './scene/scene-composer.js';
export { engineAnalyser, engineEmbedder } from './threads/engine-adapters.js';
export {
  type CropEmbedder,
  type FrameAnalyser,
  type FrameAnalysis,
  VIDEO_FRAME,
} from './threads/frame-analyser.js';
export { InferenceThread, InferenceThreadError } from './threads/inference-thread.js';
