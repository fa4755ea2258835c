import {
  AuditCheckpointRepository,
  type Bus,
  type Config,
  type Database,
  type DataCipher,
  type Logger,
  loadAuditSigner,
  type TemplateKeys,
} from '@vigil/core';
import type { FalseMatchRates } from '@vigil/face-runtime';
import type { CameraNetworks } from '@vigil/ingest';
import { AlertService } from './alerts/alert.service.js';
import { type AuthOptions, AuthService } from './auth/auth.service.js';
import { throttleSecret } from './auth/login-throttle.js';
import { AuthorisationService } from './deployments/authorisation.service.js';
import { type CameraStatusSource, DeploymentService } from './deployments/deployment.service.js';
import { ImportService } from './imports/import.service.js';
import { AuditTrailService } from './oversight/audit-trail.service.js';
import { CalibrationService } from './oversight/calibration.service.js';
import { EvidencePackService } from './oversight/evidence-pack.service.js';
import { PublishedRecordService } from './oversight/published-record.service.js';
import { RetentionService, retentionPolicy } from './oversight/retention.service.js';
import { StatsService } from './oversight/stats.service.js';
import { ThresholdService } from './oversight/threshold.service.js';
import { UseLogService } from './oversight/use-log.service.js';
import { AlertFeed } from './realtime/alert-feed.js';
import { createRepositories } from './repositories.js';
import { type EnrolmentEngine, EnrolmentService } from './subjects/enrolment.service.js';
import { SubjectApprovalService } from './subjects/subject-approval.service.js';
import { SubjectHistoryService } from './subjects/subject-history.service.js';
import { VerificationService } from './verification/verification.service.js';
import { WatchlistService } from './watchlists/watchlist.service.js';

/** What the API's services are built from: the process's database, bus and settings. */
export interface CompositionInput {
  config: Config;
  db: Database;
  bus: Bus;
  logger: Logger;
  cipher: DataCipher;
  templates: TemplateKeys;
  faceEngine?: EnrolmentEngine;
  cameraStatus: CameraStatusSource;
  cameraNetworks: CameraNetworks;
  /** The embedding model id of new deployments, resolved when first needed. */
  modelId: () => string;
  thresholdFloor: number;
  /** The loaded profile's false match rates, for its model where no calibration was stored. */
  profileRates?: { model: string; rates: FalseMatchRates };
  auth: AuthOptions;
}

/** Every service of the API, each built once. */
export type Services = ReturnType<typeof createServices>;

/**
 * The API's composition root: builds every repository (`createRepositories`) and every service once,
 * each service given its repositories and the services it uses through its constructor. Nothing
 * else in the API builds a repository or a service (test/structure/api-layers.test.ts).
 */
export function createServices(input: CompositionInput) {
  const { config, db, bus, logger } = input;
  const repositories = createRepositories(db);
  const feed = new AlertFeed(bus);
  const alerts = new AlertService(repositories, input.cipher, feed);
  const auditTrail = new AuditTrailService(repositories, {
    signer: loadAuditSigner({ auditKey: config.VIGIL_AUDIT_KEY, dataDir: config.dataDir }),
    store: new AuditCheckpointRepository(config.dataDir),
    logger: logger.child({ component: 'audit' }),
  });
  const enrolment = new EnrolmentService(repositories, input.cipher, input.faceEngine, input.templates);
  const deployments = new DeploymentService(
    repositories,
    bus,
    {
      thresholdFloor: input.thresholdFloor,
      snapshotGraceHours: config.VIGIL_SNAPSHOT_GRACE_HOURS,
      cameraNetworks: input.cameraNetworks,
      templates: input.templates,
      modelId: input.modelId,
    },
    input.cameraStatus,
  );
  const stats = new StatsService(repositories);
  const records = new PublishedRecordService(repositories, stats, input.profileRates);
  const useLog = new UseLogService(repositories, config.VIGIL_USE_LOG_RETENTION_DAYS);
  return {
    repositories,
    feed,
    alerts,
    auth: new AuthService(repositories, input.auth, throttleSecret(input.cipher)),
    auditTrail,
    watchlists: new WatchlistService(repositories),
    enrolment,
    imports: new ImportService(repositories, enrolment, logger),
    approvals: new SubjectApprovalService(repositories),
    subjectHistory: new SubjectHistoryService(repositories),
    deployments,
    authorisations: new AuthorisationService(
      repositories,
      deployments,
      { urgentDecisionHours: config.VIGIL_URGENT_DECISION_HOURS },
      bus,
    ),
    verification: new VerificationService(repositories, alerts),
    stats,
    retention: new RetentionService(repositories, retentionPolicy(config), undefined, bus),
    thresholds: new ThresholdService(repositories, input.thresholdFloor),
    calibrations: new CalibrationService(repositories),
    records,
    useLog,
    evidencePacks: new EvidencePackService(repositories, {
      deployments,
      records,
      useLog,
      thresholdFloor: input.thresholdFloor,
      auditTrail,
    }),
  };
}
