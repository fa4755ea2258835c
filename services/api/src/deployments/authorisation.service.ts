import type { AuthorisationStatus, DecisionInput, PurgeReason } from '@vigil/contract';
import {
  type AuditRepository,
  type Bus,
  ConflictError,
  ForbiddenError,
  type Logger,
  NotFoundError,
  type Queryable,
  ValidationError,
} from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import { DeploymentStateError } from '../errors.js';
import { AlertFeed } from '../realtime/alert-feed.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import { type Authorisation, type AuthorisationRepository, composition } from './authorisation.repository.js';
import type { Deployment } from './deployment.repository.js';
import type { Actor, DeploymentService } from './deployment.service.js';

export interface AuthorisationSettings {
  /** VIGIL_URGENT_DECISION_HOURS: how long an urgent start may run before the decision. */
  urgentDecisionHours: number;
}

/** The authorisation schedule's actor in the audit trail. */
const SYSTEM_ACTOR: Actor = { id: null, username: 'system:authorisation' };

/**
 * Authorisation of deployments: an admin asks (with the purpose, legal basis, place and window the
 * deployment records, and the watchlist as it stands), an authorising officer who did not ask grants
 * or refuses with a rationale. A refusal, or an urgent request left undecided past its deadline,
 * stops the deployment and deletes its snapshot, alerts and crops at once. `enforce` is the schedule:
 * it lapses overdue urgent requests and stops deployments whose window has ended.
 */
export class AuthorisationService {
  readonly #authorisations: AuthorisationRepository;
  readonly #audit: AuditRepository;
  readonly #feed: AlertFeed | undefined;

  constructor(
    repositories: Pick<Repositories, 'authorisations' | 'audit'>,
    private readonly deployments: DeploymentService,
    private readonly settings: AuthorisationSettings,
    /** The bus whose durable alert stream loses a purged deployment's alerts too, and that tells consoles. */
    bus?: Bus,
  ) {
    this.#authorisations = repositories.authorisations;
    this.#audit = repositories.audit;
    this.#feed = bus ? new AlertFeed(bus) : undefined;
  }

  /** The stream's copies of the deployments' alerts (label, subject, time) go with their rows. */
  async #eraseStreamed(deploymentIds: string[]): Promise<void> {
    if (!this.#feed || deploymentIds.length === 0) return;
    const ids = new Set(deploymentIds);
    await this.#feed.eraseAlerts((alert) => ids.has(alert.deploymentId));
  }

  /**
   * A deployment's data was deleted: its copies on the stream go, and every console showing its
   * alerts is told to drop them (`purged`).
   */
  async #purged(deploymentId: string, reason: PurgeReason): Promise<void> {
    await this.#eraseStreamed([deploymentId]);
    this.#feed?.publishEvent(deploymentId, { type: 'purged', payload: { deploymentId, reason } });
  }

  /**
   * Asks for authorisation of a planned deployment. Its purpose, legal basis, location and window
   * must be filled in (400 `authorisation_incomplete` naming what is missing), and no other request
   * may be pending or granted (409 `authorisation_exists`). An urgent request lets the deployment
   * start at once and carries a deadline for the decision.
   */
  async request(
    actor: AuthUser,
    deploymentId: string,
    options: { urgent?: boolean } = {},
  ): Promise<Authorisation> {
    const urgent = options.urgent === true;
    let id = '';
    await this.deployments.change(
      actor,
      deploymentId,
      'deployment.authorisation_request',
      { urgent },
      async (tx, current) => {
        if (current.status !== 'planned')
          throw new DeploymentStateError(`a ${current.status} deployment cannot be authorised`);
        const missing = [
          ...(current.purpose.trim() === '' ? ['purpose'] : []),
          ...(current.legalBasis.trim() === '' ? ['legalBasis'] : []),
          ...(current.location.trim() === '' ? ['location'] : []),
          ...(current.startsAt === null ? ['startsAt'] : []),
          ...(current.endsAt === null ? ['endsAt'] : []),
          ...(current.watchlistIds.length === 0 ? ['watchlistIds'] : []),
        ];
        if (missing.length > 0)
          throw new ValidationError(
            `fill in ${missing.join(', ')} before asking`,
            'authorisation_incomplete',
          );
        if (new Date(current.endsAt!).getTime() <= Date.now())
          throw new ValidationError('the window has already ended', 'authorisation_incomplete');
        const latest = await this.#authorisations.latest(deploymentId, tx);
        if (latest && (latest.status === 'pending' || latest.status === 'granted'))
          throw new ConflictError(
            `this deployment's authorisation is ${latest.status}`,
            'authorisation_exists',
          );
        const subjects = await this.#authorisations.classify(deploymentId, current.model, undefined, tx);
        const make = composition(subjects);
        id = await this.#authorisations.insert(
          {
            deploymentId,
            urgent,
            requestedBy: actor.id,
            decisionDueHours: urgent ? this.settings.urgentDecisionHours : null,
            purpose: current.purpose,
            legalBasis: current.legalBasis,
            location: current.location,
            startsAt: current.startsAt!,
            endsAt: current.endsAt!,
            threshold: current.threshold,
            watchlistIds: current.watchlistIds,
            composition: make,
            subjectIds: subjects.filter((s) => s.excluded === null).map((s) => s.id),
          },
          tx,
        );
        return { authorisationId: id, composition: make };
      },
    );
    return (await this.#authorisations.find(id))!;
  }

  /**
   * The authorising officer's decision on a pending request, with a rationale. The one who asked
   * cannot decide (403 `requester_cannot_authorise`). Refusing a deployment that started urgently
   * stops it and deletes its data at once; a request past its deadline has lapsed (409).
   */
  async decide(actor: AuthUser, authorisationId: string, input: DecisionInput): Promise<Authorisation> {
    const rationale = input.rationale.trim();
    if (rationale === '') throw new ValidationError('give the reasons for the decision', 'invalid_rationale');
    const found = isUuid(authorisationId) ? await this.#authorisations.find(authorisationId) : undefined;
    if (!found) throw new NotFoundError('authorisation');
    let stopped = false;
    let purged: Record<string, unknown> | undefined;
    await this.deployments.change(
      actor,
      found.deploymentId,
      `deployment.authorisation_${input.decision}`,
      { authorisationId, rationale },
      async (tx, deployment) => {
        const request = (await this.#authorisations.find(authorisationId, tx, { lock: true }))!;
        if (request.status !== 'pending')
          throw new ConflictError(
            `this request is ${request.status}, not pending`,
            'authorisation_not_pending',
          );
        if (request.requestedBy === actor.id)
          throw new ForbiddenError('the one who asked cannot authorise', 'requester_cannot_authorise');
        if (request.decisionDueAt && new Date(request.decisionDueAt).getTime() <= Date.now())
          throw new ConflictError('the decision deadline has passed', 'authorisation_lapsed');
        await this.#authorisations.decide(
          authorisationId,
          { status: input.decision, decidedBy: actor.id, rationale },
          tx,
        );
        if (input.decision !== 'refused') return;
        if (deployment.status === 'running') {
          stopped = true;
          return this.deployments.stopIn(tx, deployment, 'authorisation_refused');
        }
        purged = await this.#purgeStopped(tx, deployment);
        return purged;
      },
    );
    if (stopped) this.deployments.announceStopped(found.deploymentId);
    if (stopped || purged) await this.#purged(found.deploymentId, 'authorisation_refused');
    return (await this.#authorisations.find(authorisationId))!;
  }

  /** Requests newest first, of every deployment (optionally one status) or of one deployment. */
  async list(filter: { deploymentId?: string; status?: AuthorisationStatus }): Promise<Authorisation[]> {
    if (filter.deploymentId !== undefined && !isUuid(filter.deploymentId))
      throw new NotFoundError('deployment');
    return this.#authorisations.list(filter);
  }

  /**
   * One pass of the schedule: lapses urgent requests past their deadline (stopping and purging a
   * deployment that started on them), stops running deployments whose window has ended, and deletes
   * alerts stored after their deployment was purged. Returns what it did.
   */
  async enforce(): Promise<{ lapsed: string[]; ended: string[]; lateAlerts: number }> {
    const lapsed: string[] = [];
    for (const due of await this.#authorisations.overdue()) {
      let stopped = false;
      let erase = false;
      const done = await this.deployments
        .change(
          SYSTEM_ACTOR,
          due.deploymentId,
          'deployment.authorisation_lapsed',
          { authorisationId: due.id },
          async (tx, deployment) => {
            const request = await this.#authorisations.find(due.id, tx, { lock: true });
            if (request?.status !== 'pending') throw new AlreadyHandled();
            await this.#authorisations.decide(
              due.id,
              { status: 'lapsed', decidedBy: null, rationale: 'no decision by the urgent deadline' },
              tx,
            );
            if (deployment.status !== 'running') {
              const purged = await this.#purgeStopped(tx, deployment);
              erase = purged !== undefined;
              return purged;
            }
            stopped = erase = true;
            return this.deployments.stopIn(tx, deployment, 'authorisation_lapsed');
          },
        )
        .then(() => true, ignoreHandled);
      if (stopped) this.deployments.announceStopped(due.deploymentId);
      if (erase) await this.#purged(due.deploymentId, 'authorisation_lapsed');
      if (done) lapsed.push(due.id);
    }
    const ended: string[] = [];
    for (const id of await this.#authorisations.pastWindow()) {
      const done = await this.deployments
        .change(SYSTEM_ACTOR, id, 'deployment.stop', {}, async (tx, deployment) => {
          if (deployment.status !== 'running') throw new AlreadyHandled();
          return this.deployments.stopIn(tx, deployment, 'window_ended');
        })
        .then(() => true, ignoreHandled);
      if (done) {
        this.deployments.announceStopped(id);
        ended.push(id);
      }
    }
    const late = await this.#authorisations.deleteLateAlerts();
    const lateAlerts = late.length;
    if (lateAlerts > 0) {
      await this.#eraseStreamed([...new Set(late)]);
      await this.#audit.append({
        actorId: null,
        actorName: SYSTEM_ACTOR.username,
        action: 'deployment.late_alerts_deleted',
        details: { alerts: lateAlerts, deploymentIds: [...new Set(late)] },
      });
    }
    return { lapsed, ended, lateAlerts };
  }

  /**
   * A deployment that started on an urgent request and was stopped by hand before the refusal (or the
   * deadline): its data goes all the same. Returns audit details; nothing for one that never ran.
   */
  async #purgeStopped(tx: Queryable, deployment: Deployment): Promise<Record<string, unknown> | undefined> {
    if (deployment.status !== 'stopped' || deployment.purgedAt !== null) return undefined;
    return { deleted: await this.#authorisations.purge(deployment.id, tx) };
  }
}

/** Another process (or an operator) got there first: nothing to do, nothing to audit. */
class AlreadyHandled extends Error {}

function ignoreHandled(error: unknown): false {
  if (error instanceof AlreadyHandled) return false;
  throw error;
}

/** How often the schedule runs: a window's end or an urgent deadline is kept to within this. */
export const AUTHORISATION_CHECK_MS = 15_000;

/** Runs `enforce` every `intervalMs` until stopped; one pass at a time. */
export function startAuthorisationSchedule(options: {
  service: AuthorisationService;
  intervalMs: number;
  logger: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = options.service
      .enforce()
      .then((report) => {
        if (report.lapsed.length > 0 || report.ended.length > 0 || report.lateAlerts > 0)
          options.logger.info(
            { lapsed: report.lapsed.length, ended: report.ended.length, lateAlerts: report.lateAlerts },
            'authorisation schedule stopped deployments',
          );
      })
      .catch((error: unknown) => options.logger.error({ err: error }, 'authorisation schedule failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
