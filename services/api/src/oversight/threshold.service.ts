import { type AuditRepository, type Database, NotFoundError, ValidationError } from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { AuthorisationRepository } from '../deployments/authorisation.repository.js';
import type { DeploymentRepository } from '../deployments/deployment.repository.js';
import { DeploymentStateError, ThresholdBelowFloorError } from '../errors.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';

export interface ThresholdChange {
  deploymentId: string;
  previousThreshold: number;
  threshold: number;
}

// real (float4) columns read back as e.g. 0.6000000238: compare and report at this precision.
const PRECISION = 1e6;
const rounded = (value: number) => Math.round(value * PRECISION) / PRECISION;

/**
 * Threshold governance: a deployment's similarity threshold changes only at or above the configured
 * floor (VIGIL_THRESHOLD_FLOOR), never on a stopped deployment, and every change is on the audit
 * trail with the old and new values and the reason given.
 */
export class ThresholdService {
  readonly #db: Database;
  readonly #deployments: DeploymentRepository;
  readonly #authorisations: AuthorisationRepository;
  readonly #audit: AuditRepository;

  constructor(
    repositories: Pick<Repositories, 'db' | 'deployments' | 'authorisations' | 'audit'>,
    private readonly floor: number,
  ) {
    this.#db = repositories.db;
    this.#deployments = repositories.deployments;
    this.#authorisations = repositories.authorisations;
    this.#audit = repositories.audit;
  }

  async change(
    actor: AuthUser,
    deploymentId: string,
    threshold: number,
    reason = '',
  ): Promise<ThresholdChange> {
    if (!Number.isFinite(threshold) || threshold > 1)
      throw new ValidationError('threshold must be a similarity no greater than 1', 'invalid_threshold');
    if (threshold < this.floor) throw new ThresholdBelowFloorError(threshold, this.floor);
    if (!isUuid(deploymentId)) throw new NotFoundError('deployment');
    return this.#db.transaction(async (tx) => {
      const current = await this.#deployments.find(deploymentId, tx, { lock: true });
      if (!current) throw new NotFoundError('deployment');
      if (current.status === 'stopped')
        throw new DeploymentStateError('the deployment has stopped; its threshold is part of its record');
      const previousThreshold = rounded(Number(current.threshold));
      await this.#deployments.update(deploymentId, { threshold }, tx);
      // A planned deployment's authorisation was given for the old threshold: it must be asked again.
      const withdrawn =
        current.status === 'planned' ? await this.#authorisations.withdrawOpen(deploymentId, tx) : undefined;
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'deployment.threshold_change',
          targetType: 'deployment',
          targetId: deploymentId,
          details: {
            from: previousThreshold,
            to: threshold,
            floor: this.floor,
            status: current.status,
            reason,
            ...(withdrawn ? { authorisationWithdrawn: withdrawn } : {}),
          },
        },
        tx,
      );
      return { deploymentId, previousThreshold, threshold };
    });
  }
}
