import { AuditRepository, type Database } from '@vigil/core';
import { AlertClaimRepository } from './alerts/alert-claim.repository.js';
import { AlertReviewRepository } from './alerts/alert-review.repository.js';
import { LoginThrottleRepository } from './auth/login-throttle.repository.js';
import { SessionRepository } from './auth/session.repository.js';
import { UserRepository } from './auth/user.repository.js';
import { AuthorisationRepository } from './deployments/authorisation.repository.js';
import { DeploymentRepository } from './deployments/deployment.repository.js';
import { ImportRepository } from './imports/import.repository.js';
import { CalibrationRepository } from './oversight/calibration.repository.js';
import { EvidencePackRepository } from './oversight/evidence-pack.repository.js';
import { PublishedRecordRepository } from './oversight/published-record.repository.js';
import { RetentionRepository } from './oversight/retention.repository.js';
import { StatsRepository } from './oversight/stats.repository.js';
import { UseLogRepository } from './oversight/use-log.repository.js';
import { ReembedRepository } from './subjects/reembed.repository.js';
import { SubjectRepository } from './subjects/subject.repository.js';
import { SubjectHistoryRepository } from './subjects/subject-history.repository.js';
import { VerificationRepository } from './verification/verification.repository.js';
import { WatchlistRepository } from './watchlists/watchlist.repository.js';

/**
 * Every repository of the API over one database, built once (here, and nowhere else). A service
 * takes the ones it needs (`Pick<Repositories, ...>`) through its constructor. For a transaction a
 * service calls `db.transaction` and passes the transaction's client (`tx`) to each repository
 * method, so the same repository serves inside and outside transactions (docs/decisions/027).
 */
export interface Repositories {
  /** Opens transactions (`db.transaction(tx => ...)`); only repositories query it. */
  db: Database;
  audit: AuditRepository;
  alerts: AlertReviewRepository;
  claims: AlertClaimRepository;
  users: UserRepository;
  sessions: SessionRepository;
  loginThrottle: LoginThrottleRepository;
  deployments: DeploymentRepository;
  authorisations: AuthorisationRepository;
  imports: ImportRepository;
  calibrations: CalibrationRepository;
  evidencePacks: EvidencePackRepository;
  publishedRecords: PublishedRecordRepository;
  retention: RetentionRepository;
  stats: StatsRepository;
  useLog: UseLogRepository;
  reembedding: ReembedRepository;
  subjects: SubjectRepository;
  subjectHistory: SubjectHistoryRepository;
  verifications: VerificationRepository;
  watchlists: WatchlistRepository;
}

/** Builds every repository over `db`. */
export function createRepositories(db: Database): Repositories {
  return {
    db,
    audit: new AuditRepository(db),
    alerts: new AlertReviewRepository(db),
    claims: new AlertClaimRepository(db),
    users: new UserRepository(db),
    sessions: new SessionRepository(db),
    loginThrottle: new LoginThrottleRepository(db),
    deployments: new DeploymentRepository(db),
    authorisations: new AuthorisationRepository(db),
    imports: new ImportRepository(db),
    calibrations: new CalibrationRepository(db),
    evidencePacks: new EvidencePackRepository(db),
    publishedRecords: new PublishedRecordRepository(db),
    retention: new RetentionRepository(db),
    stats: new StatsRepository(db),
    useLog: new UseLogRepository(db),
    reembedding: new ReembedRepository(db),
    subjects: new SubjectRepository(db),
    subjectHistory: new SubjectHistoryRepository(db),
    verifications: new VerificationRepository(db),
    watchlists: new WatchlistRepository(db),
  };
}
