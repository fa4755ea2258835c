export {
  type AuditEntry,
  type AuditFailure,
  AuditRepository,
  type AuditRow,
  type AuditVerification,
  auditHash,
  canonicalJson,
  GENESIS_HASH,
} from './audit/audit.repository.js';
export {
  AUDIT_KEY_FILE_NAME,
  type AuditCheckpoint,
  AuditCheckpointSigner,
  type ChainHead,
  loadAuditSigner,
} from './audit/audit-checkpoint.js';
export {
  AUDIT_CHECKPOINT_FILE_NAME,
  AuditCheckpointRepository,
} from './audit/audit-checkpoint.repository.js';
export * from './bus/bus.js';
export { MemoryBus } from './bus/memory-bus.js';
export { NatsBus, type NatsBusOptions } from './bus/nats-bus.js';
export { type OpenBusOptions, openBus } from './bus/open-bus.js';
export { DEFAULT_MAX_PENDING } from './bus/queued-subscription.js';
export * from './bus/subjects.js';
export { type Config, isAddressOrNetwork, loadConfig } from './config.js';
export {
  alertCropContext,
  alertSceneContext,
  DataCipher,
  DecryptionError,
  KEY_FILE_NAME,
  keyFilePaths,
  loadDataCipher,
  parseDataKey,
  referenceImageContext,
} from './crypto/data-cipher.js';
export { type RotationResult, rotateDataKey } from './crypto/key-rotation.js';
export {
  orthogonalMatrix,
  snapshotProbe,
  snapshotTemplate,
  storedTemplate,
  TemplateKeyError,
  TemplateKeys,
  TemplateProtector,
  TemplateRotation,
  templateKeys,
} from './crypto/template-rotation.js';
export { DatabaseConnectionError } from './db/database.errors.js';
export { type Database, fromVectorText, type Queryable, toVectorParam } from './db/database.js';
export { listMigrations, type Migration, migrate, splitStatements } from './db/migrate.js';
export { type OpenDatabaseOptions, openDatabase } from './db/open-database.js';
export { PgliteDatabase } from './db/pglite.repository.js';
export { PostgresDatabase } from './db/postgres.repository.js';
export * from './errors.js';
export * from './face.js';
export { formatLogLine, type LogFormat, resolveLogFormat } from './log-text.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export * from './metrics/index.js';
