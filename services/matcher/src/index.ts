export { AlertScenes, SCENE_REQUEST_TIMEOUT_MS, type SceneSource } from './alert-scene.js';
export {
  COUNTER_FLUSH_MS,
  type CounterDelta,
  DeploymentCounters,
} from './deployment-counters.repository.js';
export {
  CROP_UPGRADE_RATIO,
  MatchedAlertRepository,
  type NewAlert,
  type StoredAlert,
  type StoreResult,
} from './matched-alert.repository.js';
export {
  type MatcherWorker,
  type MatcherWorkerOptions,
  publishAlert,
  publishCropUpgraded,
  startMatcherWorker,
} from './matcher.handler.js';
export {
  DEFAULT_DEPLOYMENT_CACHE_MS,
  FORGET_GRACE_MS,
  type MatchedAlert,
  type MatcherDependencies,
  MatcherService,
  type MatcherSettings,
  type MatchOutcome,
  type UpgradedCrop,
} from './matcher.service.js';
export { encodeProbeJpeg, PROBE_JPEG_QUALITY } from './probe-image.js';
export {
  type DeploymentInfo,
  HNSW_CANDIDATES,
  HNSW_EF_SEARCH,
  type SnapshotMatch,
  SnapshotRepository,
} from './snapshot.repository.js';
