export {
  AnalysisLedger,
  NOT_ANALYSED_REASONS,
  type NotAnalysedReason,
  SETTLE_MS,
} from './analysis-ledger.js';
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { CameraRepository, type CameraSource } from './camera.repository.js';
export {
  type AdvisoryLockLeaseOptions,
  AdvisoryLockLeases,
  CAMERA_LOCK_CLASS,
  LEASE_HEARTBEAT_MS,
  LEASE_TTL_MS,
  REPLICA_LOCK_CLASS,
} from './camera-lease.repository.js';
export { type CameraLeases, type LeaseEvent, SingleProcessLeases } from './camera-leases.js';
export { CameraNetworks, cameraFailureReason } from './camera-network.js';
export {
  ANALYSIS_WINDOW_MS,
  type CameraHealthState,
  CameraStatusTracker,
  type CameraStatusTrackerOptions,
  type CameraStatusView,
  type PipelineStage,
  STATUS_STALE_MS,
} from './camera-status.tracker.js';
export {
  type CameraSpec,
  type CameraStatusSnapshot,
  CameraSupervisor,
  type FrameAccounting,
  type SupervisorOptions,
} from './camera-supervisor.service.js';
export { isValidCameraUrl, type ParsedCameraUrl, parseCameraUrl, redactCameraUrl } from './camera-url.js';
export {
  CONTROL_TOKEN,
  DEPLOYMENT_CONTROL_SUBJECTS,
  notifyDeploymentChanged,
  onDeploymentStopped,
} from './control.js';
export { buildFfmpegArgs, DEFAULT_JPEG_QUALITY } from './ffmpeg-args.js';
export { ffmpegPath } from './ffmpeg-process.js';
export { CameraLeaseLostError, CameraNetworkError, InvalidCameraUrlError } from './ingest.errors.js';
export { DEFAULT_RECONCILE_INTERVAL_MS, type IngestOptions, IngestService } from './ingest.service.js';
export { MjpegSplitter } from './mjpeg-splitter.js';
