import type { Outcome, VerificationPayload } from '@vigil/contract';
import { type AuditRepository, type Database, NotFoundError, type Queryable } from '@vigil/core';
import { NotAssignedError } from '../alerts/alert.errors.js';
import type { AlertService } from '../alerts/alert.service.js';
import type { AdjudicationRecord, AlertReviewRepository } from '../alerts/alert-review.repository.js';
import type { AuthUser } from '../auth/roles.js';
import { DeploymentStateError } from '../errors.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import {
  AlreadyVerifiedError,
  VerificationNotRequiredError,
  VerificationRequiredError,
} from './verification.errors.js';
import type { Confirmation, VerificationRepository } from './verification.repository.js';

/** Different operators who must confirm an alert of a two-person deployment before it is acted on. */
export const VERIFIERS_REQUIRED = 2;

/**
 * Outcomes that act on an alert (or count it as a true alert): refused on a two-person deployment
 * until the alert is verified. `false_alert` and `not_stopped` are not actions and stay open to one.
 */
export const ACTING_OUTCOMES: readonly Outcome[] = ['confirmed', 'engaged', 'arrested'];

/** Alerts the console's operator view is told the verification state of, newest first. */
const RECENT_ALERTS = 200;

/** An alert's verification state (`actionable` is always true where verification is not required). */
export type VerificationState = Omit<VerificationPayload, 'deploymentId'>;

export interface VerificationPolicy {
  deploymentId: string;
  required: boolean;
}

const BIGINT_TEXT = /^[0-9]{1,19}$/;

function state(alertId: string, required: boolean, confirmations: Confirmation[]): VerificationState {
  const verifiers = new Set(confirmations.map((c) => c.userId ?? c.username)).size;
  const waitingFor = required ? Math.max(0, VERIFIERS_REQUIRED - verifiers) : 0;
  return { alertId, required, confirmations, actionable: waitingFor === 0, waitingFor };
}

/**
 * Refuses an acting outcome or a dispatch of an alert that its deployment says two operators must
 * confirm first. Called inside the transaction that would record the action.
 */
export async function assertActionable(
  repository: VerificationRepository,
  tx: Queryable,
  alert: { id: string; deploymentId: string },
  action: Outcome | 'dispatch',
): Promise<void> {
  if (action !== 'dispatch' && !ACTING_OUTCOMES.includes(action)) return;
  if (!(await repository.required(alert.deploymentId, tx))) return;
  const confirmations = (await repository.confirmationsOf([alert.id], tx)).get(alert.id) ?? [];
  const current = state(alert.id, true, confirmations);
  if (!current.actionable) throw new VerificationRequiredError(VERIFIERS_REQUIRED - current.waitingFor);
}

/**
 * Two-person verification (EU AI Act art. 14(5)): a deployment may require that no action is taken
 * on an alert until two different operators have confirmed it. Each confirmation is kept with who
 * and when; the second records the `confirmed` outcome, which is what statistics count and what
 * lets the alert be passed to an officer.
 */
export class VerificationService {
  readonly #audit: AuditRepository;
  readonly #verifications: VerificationRepository;
  readonly #alerts: AlertReviewRepository;

  readonly #db: Database;

  constructor(
    repositories: Pick<Repositories, 'db' | 'audit' | 'verifications' | 'alerts'>,
    private readonly alerts: AlertService,
  ) {
    this.#db = repositories.db;
    this.#audit = repositories.audit;
    this.#verifications = repositories.verifications;
    this.#alerts = repositories.alerts;
  }

  /** Turns the requirement on (any time before the end) or off (only before the start). */
  async setRequired(actor: AuthUser, deploymentId: string, required: boolean): Promise<VerificationPolicy> {
    if (!isUuid(deploymentId)) throw new NotFoundError('deployment');
    return this.#db.transaction(async (tx) => {
      const current = await this.#verifications.lockDeployment(deploymentId, tx);
      if (!current) throw new NotFoundError('deployment');
      if (current.status === 'stopped')
        throw new DeploymentStateError(
          'the deployment has stopped; its verification rule is part of its record',
        );
      if (!required && current.required && current.status !== 'planned')
        throw new DeploymentStateError(
          'two-person verification can only be turned off before the deployment starts',
        );
      if (current.required !== required) {
        await this.#verifications.setRequired(deploymentId, required, tx);
        await this.#audit.append(
          {
            actorId: actor.id,
            actorName: actor.username,
            action: 'deployment.verification_policy',
            targetType: 'deployment',
            targetId: deploymentId,
            details: { twoPersonVerification: required, status: current.status },
          },
          tx,
        );
      }
      return { deploymentId, required };
    });
  }

  async policy(actor: AuthUser, deploymentId: string): Promise<VerificationPolicy> {
    if (actor.role === 'operator') await this.alerts.assertMayReceive(actor, deploymentId);
    const required = isUuid(deploymentId) ? await this.#verifications.required(deploymentId) : undefined;
    if (required === undefined) throw new NotFoundError('deployment');
    return { deploymentId, required };
  }

  /** The verification state of the deployment's newest alerts. */
  async states(
    actor: AuthUser,
    deploymentId: string,
  ): Promise<VerificationPolicy & { alerts: VerificationState[] }> {
    await this.alerts.assertMayReceive(actor, deploymentId);
    const required = (await this.#verifications.required(deploymentId)) ?? false;
    const ids = await this.#verifications.recentAlertIds(deploymentId, RECENT_ALERTS);
    const confirmations = await this.#verifications.confirmationsOf(ids);
    return {
      deploymentId,
      required,
      alerts: ids.map((id) => state(id, required, confirmations.get(id) ?? [])),
    };
  }

  /**
   * Records the caller's confirmation, sent live as `verification` to the deployment's clients. The
   * second different operator's confirmation also records the `confirmed` outcome (audited, sent
   * live as `adjudication`).
   */
  async confirm(actor: AuthUser, alertId: string, note = ''): Promise<VerificationState> {
    const alert = BIGINT_TEXT.test(alertId) ? await this.#alerts.find(alertId) : undefined;
    if (!alert) throw new NotFoundError('alert');
    if (!(await this.alerts.mayReceive(actor, alert.deploymentId))) throw new NotAssignedError();
    let outcome: AdjudicationRecord | undefined;
    const result = await this.#db.transaction(async (tx) => {
      await this.#verifications.lockAlert(alert.id, tx);
      if (!(await this.#verifications.required(alert.deploymentId, tx)))
        throw new VerificationNotRequiredError();
      const before = (await this.#verifications.confirmationsOf([alert.id], tx)).get(alert.id) ?? [];
      if (before.some((c) => c.userId === actor.id)) throw new AlreadyVerifiedError();
      await this.#verifications.insert(
        { alertId: alert.id, userId: actor.id, username: actor.username, note },
        tx,
      );
      const confirmations = (await this.#verifications.confirmationsOf([alert.id], tx)).get(alert.id) ?? [];
      const after = state(alert.id, true, confirmations);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'alert.verify',
          targetType: 'alert',
          targetId: alert.id,
          details: {
            deploymentId: alert.deploymentId,
            confirmations: confirmations.length,
            hasNote: note !== '',
          },
        },
        tx,
      );
      if (after.actionable && before.length < VERIFIERS_REQUIRED) {
        outcome = await this.#alerts.insertAdjudication(
          { alertId: alert.id, userId: actor.id, outcome: 'confirmed', note },
          tx,
        );
        await this.#audit.append(
          {
            actorId: actor.id,
            actorName: actor.username,
            action: 'alert.adjudicate',
            targetType: 'alert',
            targetId: alert.id,
            details: {
              deploymentId: alert.deploymentId,
              outcome: 'confirmed',
              hasNote: note !== '',
              verifiedBy: confirmations.map((c) => c.username),
            },
          },
          tx,
        );
      }
      return after;
    });
    // Every operator's card shows who has verified at once; the outcome follows as `adjudication`.
    this.alerts.announceVerification({ ...result, deploymentId: alert.deploymentId });
    if (outcome) this.alerts.announceAdjudication(outcome);
    return result;
  }
}
