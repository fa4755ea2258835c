export {
  DEFAULT_DETECTOR_MAX_PENDING,
  DEFAULT_MAX_FRAME_AGE_MS,
  type DetectorWorkerOptions,
  startDetectorWorker,
  type Worker,
} from './detector.handler.js';
export { engineAnalyser, engineEmbedder } from './engine-adapters.js';
export {
  DEFAULT_IMPROVEMENT,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MIN_IOU,
  FaceTracker,
  iou,
  type TrackDecision,
  type TrackerOptions,
  viewQuality,
} from './face-tracker.js';
export type { CropEmbedder, FrameAnalyser, FrameAnalysis } from './frame-analyser.js';
export { InferenceThread, InferenceThreadError } from './inference-thread.js';
