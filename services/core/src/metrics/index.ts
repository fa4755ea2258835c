export {
  allowLabelTokens,
  assertSafeLabels,
  isSafeLabelValue,
  LABEL_NAMES,
  type LabelName,
  type Labels,
  MetricLabelError,
} from './label-guard.js';
export {
  createMetrics,
  GuardedCounter,
  GuardedGauge,
  GuardedHistogram,
  MAX_SERIES_PER_METRIC,
  type MetricsOptions,
  VigilMetrics,
} from './metrics.registry.js';
export {
  bearerToken,
  type OpsServer,
  type OpsServerOptions,
  readinessBody,
  startOpsServer,
  tokenMatches,
} from './ops.server.js';
export { type PrometheusSample, parsePrometheusText } from './prometheus-text.js';
export {
  busCheck,
  type CheckOptions,
  type CheckResult,
  createReadiness,
  DEFAULT_CHECK_TIMEOUT_MS,
  databaseCheck,
  type ReadinessCheck,
  type ReadinessGate,
  ReadinessRegistry,
  type ReadinessReport,
} from './readiness.registry.js';
export { QUEUE_SAMPLE_INTERVAL_MS, trackSubscription } from './subscription.tracker.js';
