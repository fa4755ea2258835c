export { type AppDependencies, buildApp, CONSOLE_DIST } from './app.js';
export {
  type AuthOptions,
  AuthService,
  type LoginResult,
  type PublicUser,
  type VerifiedToken,
} from './auth/auth.service.js';
export { type AuthUser, USER_ROLES, type UserRole } from './auth/roles.js';
export { type CompositionInput, createServices, type Services } from './composition.js';
export * from './errors.js';
export {
  type AuditCheckpointing,
  type AuditTrailFailure,
  AuditTrailService,
  type AuditTrailVerification,
  startAuditCheckpoints,
} from './oversight/audit-trail.service.js';
export {
  type CalibrationReport,
  type CalibrationRow,
  calibrationReport,
  DEFAULT_CALIBRATION_THRESHOLDS,
  formatCalibrationReport,
  type LabelledEmbedding,
} from './oversight/calibration.js';
export {
  type RetentionPolicy,
  type RetentionReport,
  RetentionService,
  retentionCounts,
  retentionPolicy,
  startRetentionSchedule,
} from './oversight/retention.service.js';
export { type DeploymentStats, type OversightStats, StatsService } from './oversight/stats.service.js';
export { ThresholdService } from './oversight/threshold.service.js';
export { type UseLog, UseLogService, useLogCsv } from './oversight/use-log.service.js';
export { type AuthHook, bearerToken } from './plugins/auth.plugin.js';
export { createRepositories, type Repositories } from './repositories.js';
export {
  type ReembedFailure,
  type ReembedResult,
  reembedReferenceImages,
} from './subjects/reembed.service.js';
