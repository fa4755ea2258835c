// The detector role: a bus worker that turns camera frames into tracked faces with the face runtime.
export {
  DEFAULT_DETECTOR_MAX_PENDING,
  DEFAULT_MAX_FRAME_AGE_MS,
  type DetectorWorkerOptions,
  startDetectorWorker,
  type Worker,
} from './detector.handler.js';
export {
  DEFAULT_IMPROVEMENT,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MIN_IOU,
  FaceTracker,
  iou,
  type TrackDecision,
  type TrackerOptions,
} from './face-tracker.js';
export { ALERTED_TRACK_MS, LIVE_DEMAND_MS, LIVE_VIEW_INTERVAL_MS, LiveView } from './live-view.js';
export { SCENE_FRAMES_PER_CAMERA, SCENE_HOLD_MS, SceneFrames } from './scene-frames.js';
export { type SceneResponderOptions, startSceneResponder } from './scene-responder.js';
