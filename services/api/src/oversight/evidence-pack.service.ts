import type { AuditCheckpoint, AuditRepository, AuditRow } from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { Authorisation, AuthorisationRepository } from '../deployments/authorisation.repository.js';
import type { DeploymentService } from '../deployments/deployment.service.js';
import type { Repositories } from '../repositories.js';
import type { AuditTrailService, AuditTrailVerification } from './audit-trail.service.js';
import type { CalibrationRepository, StoredCalibration } from './calibration.repository.js';
import type { ChainHeadAt, CompositionCount, EvidencePackRepository } from './evidence-pack.repository.js';
import { PRIORITIES, type PublishedRecord, type PublishedRecordService } from './published-record.service.js';
import { CATEGORIES } from './stats.service.js';
import type { UseLog, UseLogService } from './use-log.service.js';

/** Audit rows of one deployment an evidence pack carries at most (a long deployment's outcomes). */
const MAX_AUDIT_ROWS = 20_000;

/**
 * The chain's newest row when the pack was made: anyone can later check the trail still holds it.
 * With the audit trail's checkpointing it is the signed checkpoint (the audit key's id and its HMAC
 * over the rest, docs/audit.md).
 */
export type ChainCheckpoint = ChainHeadAt & Partial<Pick<AuditCheckpoint, 'keyId' | 'signature'>>;

/** A request for authorisation with the decision, and how many watchlist entries it covered. */
export type AuthorisationRecord = Authorisation & { subjectsCovered: number };

/** Everything an oversight body asks for about one deployment, in one download. */
export interface EvidencePack {
  kind: 'vigil.evidence-pack';
  version: 1;
  generatedAt: string;
  generatedBy: string;
  /** The deployment as the API records it: purpose, legal basis, place, window, authorisation. */
  deployment: Record<string, unknown>;
  /**
   * Every request for authorisation and the authorising officer's decision on it, with the terms and
   * the watchlist composition approved (numbers, no names) and how many entries it covered.
   */
  authorisations: AuthorisationRecord[];
  watchlist: {
    /** Subjects on the frozen list per category and priority: numbers, no names. */
    composition: CompositionCount[];
    size: number;
    /** Decisions on the list recorded on the audit trail (approval, changes of the attached lists). */
    decisions: AuditRow[];
  };
  thresholdRationale: {
    threshold: number;
    floor: number;
    model: string;
    /** Threshold settings and changes, with who and the reason given. */
    decisions: AuditRow[];
    calibration: StoredCalibration | null;
    expectedFalseAlerts: PublishedRecord['expectedFalseAlerts'];
  };
  statistics: PublishedRecord;
  useLog: UseLog;
  audit: {
    /** This deployment's rows: its own and those of its alerts, oldest first. */
    entries: AuditRow[];
    truncated: boolean;
    checkpoint: ChainCheckpoint | null;
    /** Held to the signed checkpoint when the server checkpoints (docs/audit.md). */
    verification: AuditTrailVerification;
  };
}

const LIST_ACTIONS =
  /^(deployment\.(create|watchlists|authoris|approv|start)|watchlist\.approv|subject\.approv)/;
const THRESHOLD_ACTIONS = /^deployment\.(create|update|threshold_change)/;

/** Builds the evidence pack of a deployment; making one is itself audited. */
export class EvidencePackService {
  readonly #audit: AuditRepository;
  readonly #calibrations: CalibrationRepository;
  readonly #requests: AuthorisationRepository;
  readonly #packs: EvidencePackRepository;

  constructor(
    repositories: Pick<Repositories, 'audit' | 'calibrations' | 'authorisations' | 'evidencePacks'>,
    private readonly services: {
      deployments: DeploymentService;
      records: PublishedRecordService;
      useLog: UseLogService;
      thresholdFloor: number;
      /** Signs the checkpoint and holds the verification to it; without it both come from the chain alone. */
      auditTrail?: AuditTrailService;
    },
  ) {
    this.#audit = repositories.audit;
    this.#calibrations = repositories.calibrations;
    this.#requests = repositories.authorisations;
    this.#packs = repositories.evidencePacks;
  }

  async build(actor: AuthUser, deploymentId: string): Promise<EvidencePack> {
    const deployment = await this.services.deployments.get(actor, deploymentId);
    const [authorisations, statistics, useLog, composition, audit, verification, checkpoint] =
      await Promise.all([
        this.#authorisations(deploymentId),
        this.services.records.deployment(deploymentId),
        this.services.useLog.forDeployment(deploymentId),
        this.#composition(deploymentId),
        this.#auditRows(deploymentId),
        this.services.auditTrail?.verify() ?? this.#audit.verify(),
        this.#checkpoint(),
      ]);
    const calibration = (await this.#calibrations.latestFor(deployment.model)) ?? null;
    const pack: EvidencePack = {
      kind: 'vigil.evidence-pack',
      version: 1,
      generatedAt: new Date().toISOString(),
      generatedBy: actor.username,
      deployment: { ...deployment } as Record<string, unknown>,
      authorisations,
      watchlist: {
        composition,
        size: statistics.watchlist.size,
        decisions: audit.rows.filter((row) => LIST_ACTIONS.test(row.action)),
      },
      thresholdRationale: {
        threshold: deployment.threshold,
        floor: this.services.thresholdFloor,
        model: deployment.model,
        decisions: audit.rows.filter(
          (row) =>
            THRESHOLD_ACTIONS.test(row.action) &&
            (row.action.endsWith('threshold_change') || 'threshold' in row.details),
        ),
        calibration,
        expectedFalseAlerts: statistics.expectedFalseAlerts,
      },
      statistics,
      useLog,
      audit: { entries: audit.rows, truncated: audit.truncated, checkpoint, verification },
    };
    await this.#audit.append({
      actorId: actor.id,
      actorName: actor.username,
      action: 'evidence_pack.export',
      targetType: 'deployment',
      targetId: deploymentId,
      details: {
        auditEntries: audit.rows.length,
        useLogEntries: useLog.entries.length,
        checkpointId: checkpoint?.headId ?? null,
        chainOk: verification.ok,
      },
    });
    return pack;
  }

  /** Requests and decisions, oldest first; officers are named, the people on the list are not. */
  async #authorisations(deploymentId: string): Promise<AuthorisationRecord[]> {
    const requests = (await this.#requests.list({ deploymentId })).reverse();
    const records: AuthorisationRecord[] = [];
    for (const request of requests)
      records.push({
        ...request,
        subjectsCovered: (await this.#requests.subjectIds(request.id)).length,
      });
    return records;
  }

  async #composition(deploymentId: string): Promise<CompositionCount[]> {
    const order = (c: string, p: string) =>
      (CATEGORIES as readonly string[]).indexOf(c) * 10 + (PRIORITIES as readonly string[]).indexOf(p);
    return (await this.#packs.composition(deploymentId)).sort(
      (a, b) => order(a.category, a.priority) - order(b.category, b.priority),
    );
  }

  async #auditRows(deploymentId: string): Promise<{ rows: AuditRow[]; truncated: boolean }> {
    const rows = await this.#audit.aboutDeployment(deploymentId, MAX_AUDIT_ROWS + 1);
    return { rows: rows.slice(0, MAX_AUDIT_ROWS), truncated: rows.length > MAX_AUDIT_ROWS };
  }

  async #checkpoint(): Promise<ChainCheckpoint | null> {
    // Signed with the audit key; null when the chain no longer extends its last signed checkpoint.
    if (this.services.auditTrail) return (await this.services.auditTrail.checkpoint()) ?? null;
    return (await this.#packs.chainHead()) ?? null;
  }
}
