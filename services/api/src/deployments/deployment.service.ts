import type { CameraInput, DeploymentChanges, DeploymentInput } from '@vigil/contract';
import {
  type AuditRepository,
  type Bus,
  type Database,
  NotFoundError,
  type Queryable,
  type TemplateKeys,
  ValidationError,
} from '@vigil/core';
import {
  type CameraNetworks,
  type CameraStatusView,
  NOT_ANALYSED_REASONS,
  type NotAnalysedReason,
  notifyDeploymentChanged,
  type PipelineStage,
  parseCameraUrl,
  redactCameraUrl,
} from '@vigil/ingest';
import type { AuthUser } from '../auth/roles.js';
import {
  AuthorisationRequiredError,
  DeploymentStateError,
  OutsideAuthorisedWindowError,
  ThresholdBelowFloorError,
} from '../errors.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import { type AuthorisationRepository, composition } from './authorisation.repository.js';
import type { Camera, Deployment, DeploymentRepository, StopReason } from './deployment.repository.js';

/** Who an audited change is by: a user, or the system (the authorisation schedule) with no id. */
export interface Actor {
  id: string | null;
  username: string;
}

/** What the status route needs of the pipeline's camera status tracker (@vigil/ingest). */
export interface CameraStatusSource {
  forDeployment(deploymentId: string): CameraStatusView[];
  /** Cameras missing each stage now, for `/ready`'s advisory `ingest` and `detector` checks. */
  missingStages?(): Record<PipelineStage, number>;
}

export interface DeploymentSettings {
  /** VIGIL_THRESHOLD_FLOOR: no deployment may match below it. */
  thresholdFloor: number;
  /** VIGIL_SNAPSHOT_GRACE_HOURS: how long a stopped deployment's snapshot is kept. */
  snapshotGraceHours: number;
  /** The embedding model id of the loaded profile; resolved when first needed. */
  modelId: () => string;
  /** Rotates each snapshot with a salt of its own at start; without it snapshots are frozen in the clear (tests). */
  templates?: TemplateKeys;
  /** VIGIL_CAMERA_NETWORKS: cameras elsewhere are refused (400 `camera_network_not_allowed`). */
  cameraNetworks?: CameraNetworks;
}

/** A camera as the API shows it: the URL with any password masked. */
export type CameraView = Camera;

export interface DeploymentStatusView {
  deploymentId: string;
  status: Deployment['status'];
  threshold: number;
  model: string;
  startedAt: string | null;
  stoppedAt: string | null;
  snapshot: { subjects: number; entries: number };
  facesProcessed: number;
  frames: number;
  alerts: number;
  cameras: {
    id: string;
    name: string;
    status: CameraStatusView['status'];
    fps: number;
    framesTotal: number;
    framesDropped: number;
    /** Frames read and never analysed since ingest started the camera, by reason. */
    framesNotAnalysed: Record<NotAnalysedReason, number>;
    restarts: number;
    lastErrorCode: string | null;
    lastFrameAt: string | null;
    analysedFps: number;
    state: CameraStatusView['state'];
    reason: string | null;
    missingStage: CameraStatusView['missingStage'];
  }[];
}

/** Default and bounds of a camera's sampling rate: face recognition needs a few frames a second, not 30. */
export const DEFAULT_CAMERA_FPS = 10;

function maskCamera(camera: Camera): CameraView {
  return { ...camera, url: redactCameraUrl(camera.url) };
}

function checkWindow(startsAt: string | null | undefined, endsAt: string | null | undefined): void {
  if (startsAt && endsAt && new Date(endsAt).getTime() <= new Date(startsAt).getTime())
    throw new ValidationError('endsAt must be after startsAt', 'invalid_time_window');
}

/**
 * Deployments: creation with a threshold no lower than the floor, watchlists, operators, cameras,
 * start (freezes the watchlist snapshot) and stop (schedules its destruction). Every change is
 * audited; start, stop and camera changes are announced to the ingest processes.
 */
export class DeploymentService {
  readonly #db: Database;
  readonly #deployments: DeploymentRepository;
  readonly #authorisations: AuthorisationRepository;
  readonly #audit: AuditRepository;

  constructor(
    repositories: Pick<Repositories, 'db' | 'deployments' | 'authorisations' | 'audit'>,
    private readonly bus: Bus,
    private readonly settings: DeploymentSettings,
    private readonly cameraStatus?: CameraStatusSource,
  ) {
    this.#db = repositories.db;
    this.#deployments = repositories.deployments;
    this.#authorisations = repositories.authorisations;
    this.#audit = repositories.audit;
  }

  #checkThreshold(threshold: number): void {
    if (!Number.isFinite(threshold) || threshold > 1)
      throw new ValidationError('threshold must be a similarity at most 1', 'invalid_threshold');
    if (threshold < this.settings.thresholdFloor)
      throw new ThresholdBelowFloorError(threshold, this.settings.thresholdFloor);
  }

  async #checkWatchlists(ids: string[], tx: Queryable = this.#db): Promise<string[]> {
    const unique = [...new Set(ids)];
    const found = await this.#deployments.existingWatchlists(unique, tx);
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length > 0) throw new ValidationError(`unknown watchlist ${missing[0]}`, 'unknown_watchlist');
    return unique;
  }

  async #checkOperators(ids: string[], tx: Queryable = this.#db): Promise<string[]> {
    const unique = [...new Set(ids)];
    const users = await this.#deployments.usersByIds(unique, tx);
    for (const id of unique) {
      const user = users.find((u) => u.id === id);
      if (!user) throw new ValidationError(`unknown user ${id}`, 'unknown_user');
      if (user.role !== 'operator' && user.role !== 'officer' && user.role !== 'admin')
        throw new ValidationError(`user ${user.username} is not an operator or officer`, 'not_an_operator');
    }
    return unique;
  }

  async create(actor: AuthUser, input: DeploymentInput): Promise<Deployment> {
    this.#checkThreshold(input.threshold);
    checkWindow(input.startsAt, input.endsAt);
    const model = this.settings.modelId();
    return this.#db.transaction(async (tx) => {
      const watchlistIds = await this.#checkWatchlists(input.watchlistIds, tx);
      const operatorIds = await this.#checkOperators(input.operatorIds ?? [], tx);
      const id = await this.#deployments.create(
        {
          name: input.name,
          location: input.location ?? '',
          purpose: input.purpose ?? '',
          legalBasis: input.legalBasis ?? '',
          threshold: input.threshold,
          model,
          startsAt: input.startsAt ?? null,
          endsAt: input.endsAt ?? null,
          createdBy: actor.id,
        },
        tx,
      );
      await this.#deployments.setWatchlists(id, watchlistIds, tx);
      if (operatorIds.length > 0) await this.#deployments.addOperators(id, operatorIds, tx);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'deployment.create',
          targetType: 'deployment',
          targetId: id,
          details: { name: input.name, threshold: input.threshold, model, watchlistIds, operatorIds },
        },
        tx,
      );
      return (await this.#deployments.find(id, tx))!;
    });
  }

  /** Every deployment for admins, authorisers and oversight; operators see those they are assigned to. */
  list(actor: AuthUser): Promise<Deployment[]> {
    return this.#deployments.list(actor.role === 'operator' ? { operatorId: actor.id } : {});
  }

  /** One deployment; operators get 404 for deployments they are not assigned to. */
  async get(actor: AuthUser, id: string): Promise<Deployment> {
    const deployment = isUuid(id) ? await this.#deployments.find(id) : undefined;
    if (!deployment) throw new NotFoundError('deployment');
    if (actor.role === 'operator' && !deployment.operatorIds.includes(actor.id))
      throw new NotFoundError('deployment');
    return deployment;
  }

  /**
   * Changes a planned deployment's name, place, purpose, legal basis, window or threshold. A pending
   * or granted authorisation was given for the old terms: it is withdrawn, and must be asked again.
   */
  async update(actor: AuthUser, id: string, changes: DeploymentChanges): Promise<Deployment> {
    if (changes.threshold !== undefined) this.#checkThreshold(changes.threshold);
    return this.#change(actor, id, 'deployment.update', { ...changes }, async (tx, deployment) => {
      if (deployment.status !== 'planned')
        throw new DeploymentStateError(`a ${deployment.status} deployment cannot be changed`);
      checkWindow(
        changes.startsAt !== undefined ? changes.startsAt : deployment.startsAt,
        changes.endsAt !== undefined ? changes.endsAt : deployment.endsAt,
      );
      await this.#deployments.update(id, changes, tx);
      return this.#withdrawAuthorisation(tx, id);
    });
  }

  /** Replaces a planned deployment's watchlists (the snapshot is frozen from them at start). */
  setWatchlists(actor: AuthUser, id: string, watchlistIds: string[]): Promise<Deployment> {
    return this.#change(actor, id, 'deployment.watchlists', { watchlistIds }, async (tx, deployment) => {
      if (deployment.status !== 'planned')
        throw new DeploymentStateError('watchlists are frozen once a deployment has started');
      await this.#deployments.setWatchlists(id, await this.#checkWatchlists(watchlistIds, tx), tx);
      return this.#withdrawAuthorisation(tx, id);
    });
  }

  /** Assigns operators, who then receive the deployment's alerts. */
  addOperators(actor: AuthUser, id: string, userIds: string[]): Promise<Deployment> {
    return this.#change(actor, id, 'deployment.operators_add', { userIds }, async (tx) => {
      await this.#deployments.addOperators(id, await this.#checkOperators(userIds, tx), tx);
    });
  }

  removeOperator(actor: AuthUser, id: string, userId: string): Promise<Deployment> {
    return this.#change(actor, id, 'deployment.operator_remove', { userId }, async (tx) => {
      if (!isUuid(userId) || !(await this.#deployments.removeOperator(id, userId, tx)))
        throw new NotFoundError('operator assignment');
    });
  }

  /** Adds a camera; the URL must be one ingest can open safely (`invalid_camera_url` otherwise). */
  async addCamera(actor: AuthUser, id: string, input: CameraInput): Promise<CameraView> {
    parseCameraUrl(input.url);
    // Checked here for a clear answer, and again by ingest before every connection (DNS changes).
    if (this.settings.cameraNetworks?.restricted) await this.settings.cameraNetworks.check(input.url);
    let camera: Camera | undefined;
    const deployment = await this.#change(
      actor,
      id,
      'camera.create',
      { name: input.name, url: redactCameraUrl(input.url) },
      async (tx, current) => {
        if (current.status === 'stopped')
          throw new DeploymentStateError('a stopped deployment takes no cameras');
        camera = await this.#deployments.addCamera(
          {
            deploymentId: id,
            name: input.name,
            url: input.url,
            fps: input.fps ?? DEFAULT_CAMERA_FPS,
            realtime: input.realtime ?? true,
            loop: input.loop ?? false,
          },
          tx,
        );
      },
    );
    if (deployment.status === 'running') notifyDeploymentChanged(this.bus, id, 'cameras');
    return maskCamera(camera!);
  }

  async cameras(actor: AuthUser, id: string): Promise<CameraView[]> {
    await this.get(actor, id);
    return (await this.#deployments.cameras(id)).map(maskCamera);
  }

  async deleteCamera(actor: AuthUser, cameraId: string): Promise<void> {
    const camera = isUuid(cameraId) ? await this.#deployments.findCamera(cameraId) : undefined;
    if (!camera) throw new NotFoundError('camera');
    const deployment = await this.#change(
      actor,
      camera.deploymentId,
      'camera.delete',
      { cameraId },
      async (tx) => {
        await this.#deployments.deleteCamera(cameraId, tx);
      },
    );
    if (deployment.status === 'running') notifyDeploymentChanged(this.bus, deployment.id, 'cameras');
  }

  /**
   * Starts a planned deployment inside its authorised window, once an authorising officer has
   * granted it (or at once on an urgent request awaiting the decision): freezes the snapshot of the
   * entries the authorisation covers that are still approved and not past review (embeddings of the
   * deployment's model), records who was on the list and the list's make-up, and tells ingest to
   * open the cameras.
   */
  async start(actor: AuthUser, id: string, now = new Date()): Promise<Deployment> {
    let frozen = { entries: 0, subjects: 0 };
    const deployment = await this.#change(actor, id, 'deployment.start', {}, async (tx, current) => {
      if (current.status !== 'planned')
        throw new DeploymentStateError(`a ${current.status} deployment cannot be started`);
      if (current.watchlistIds.length === 0)
        throw new DeploymentStateError('attach at least one watchlist before starting');
      const authorisation = await this.#authorisations.latest(id, tx);
      const urgent = authorisation?.status === 'pending' && authorisation.urgent;
      if (!authorisation || !(authorisation.status === 'granted' || urgent))
        throw new AuthorisationRequiredError();
      if (authorisation.startsAt && now.getTime() < new Date(authorisation.startsAt).getTime())
        throw new OutsideAuthorisedWindowError(`the authorised window opens at ${authorisation.startsAt}`);
      if (authorisation.endsAt && now.getTime() >= new Date(authorisation.endsAt).getTime())
        throw new OutsideAuthorisedWindowError(`the authorised window closed at ${authorisation.endsAt}`);
      const subjects = await this.#authorisations.classify(
        id,
        current.model,
        await this.#authorisations.subjectIds(authorisation.id, tx),
        tx,
      );
      const make = composition(subjects);
      const included = subjects.filter((subject) => subject.excluded === null).map((subject) => subject.id);
      frozen = await this.#deployments.freezeSnapshot(
        id,
        current.model,
        included,
        tx,
        this.settings.templates,
      );
      await this.#deployments.markStarted(id, make, tx);
      return {
        snapshotSubjects: frozen.subjects,
        snapshotEntries: frozen.entries,
        model: current.model,
        authorisationId: authorisation.id,
        urgent,
        composition: make,
      };
    });
    notifyDeploymentChanged(this.bus, id, 'started');
    return deployment;
  }

  /** Stops a running deployment and schedules its snapshot's destruction after the grace period. */
  async stop(actor: AuthUser, id: string): Promise<Deployment> {
    const deployment = await this.#change(actor, id, 'deployment.stop', {}, async (tx, current) =>
      this.stopIn(tx, current, 'manual'),
    );
    notifyDeploymentChanged(this.bus, id, 'stopped');
    return deployment;
  }

  /**
   * Stops `deployment` inside the caller's transaction (its row locked) for `reason`; a refused or
   * lapsed authorisation also deletes its snapshot, alerts and crops at once. Returns audit details.
   * The caller announces the stop (`announceStopped`) once the transaction has committed.
   */
  async stopIn(tx: Queryable, deployment: Deployment, reason: StopReason): Promise<Record<string, unknown>> {
    if (deployment.status !== 'running')
      throw new DeploymentStateError(`a ${deployment.status} deployment cannot be stopped`);
    await this.#deployments.markStopped(deployment.id, this.settings.snapshotGraceHours, reason, tx);
    if (reason === 'authorisation_refused' || reason === 'authorisation_lapsed')
      return { stopReason: reason, deleted: await this.#authorisations.purge(deployment.id, tx) };
    return { stopReason: reason, snapshotGraceHours: this.settings.snapshotGraceHours };
  }

  /** Tells ingest (and so the matcher) that a deployment stopped. */
  announceStopped(id: string): void {
    notifyDeploymentChanged(this.bus, id, 'stopped');
  }

  /** Runs `work` on the locked deployment in one transaction with its audit entry (for other services). */
  change(
    actor: Actor,
    id: string,
    action: string,
    details: Record<string, unknown>,
    work: (tx: Queryable, current: Deployment) => Promise<Record<string, unknown> | void>,
  ): Promise<Deployment> {
    return this.#change(actor, id, action, details, work);
  }

  /**
   * Cameras online/offline with fps and drops, frames analysed a second and the health that follows
   * (`degraded` with the missing stage when frames are read but not analysed), faces processed,
   * alerts, snapshot size.
   */
  async status(actor: AuthUser, id: string): Promise<DeploymentStatusView> {
    const deployment = await this.get(actor, id);
    const [cameras, snapshot, activity] = await Promise.all([
      this.#deployments.cameras(id),
      this.#deployments.snapshotSize(id),
      this.#deployments.activity(id),
    ]);
    const live = new Map((this.cameraStatus?.forDeployment(id) ?? []).map((view) => [view.cameraId, view]));
    return {
      deploymentId: id,
      status: deployment.status,
      threshold: deployment.threshold,
      model: deployment.model,
      startedAt: deployment.startedAt,
      stoppedAt: deployment.stoppedAt,
      snapshot,
      ...activity,
      cameras: cameras.map((camera) => {
        const view = live.get(camera.id);
        const running = deployment.status === 'running';
        return {
          id: camera.id,
          name: camera.name,
          status: view?.status ?? (running ? 'offline' : 'stopped'),
          fps: view?.fps ?? 0,
          framesTotal: view?.framesTotal ?? 0,
          framesDropped: view?.framesDropped ?? 0,
          framesNotAnalysed: Object.fromEntries(
            NOT_ANALYSED_REASONS.map((r) => [r, view?.framesNotAnalysed[r] ?? 0]),
          ) as Record<NotAnalysedReason, number>,
          restarts: view?.restarts ?? 0,
          lastErrorCode: view?.lastErrorCode ?? null,
          lastFrameAt: view?.lastFrameAt ?? null,
          analysedFps: view?.analysedFps ?? 0,
          // Never heard of while the deployment runs: no ingest has taken the camera.
          state: view?.state ?? (running ? 'offline' : 'stopped'),
          reason: view ? view.reason : running ? 'no_status' : null,
          missingStage: view ? view.missingStage : running ? 'ingest' : null,
        };
      }),
    };
  }

  /** Withdraws a deployment's pending or granted authorisation, whose terms have just changed. */
  async #withdrawAuthorisation(tx: Queryable, id: string): Promise<Record<string, unknown>> {
    const withdrawn = await this.#authorisations.withdrawOpen(id, tx);
    return withdrawn ? { authorisationWithdrawn: withdrawn } : {};
  }

  /** Runs `work` on the locked deployment in one transaction with its audit entry; returns the result. */
  async #change(
    actor: Actor,
    id: string,
    action: string,
    details: Record<string, unknown>,
    work: (tx: Queryable, current: Deployment) => Promise<Record<string, unknown> | void>,
  ): Promise<Deployment> {
    if (!isUuid(id)) throw new NotFoundError('deployment');
    return this.#db.transaction(async (tx) => {
      const current = await this.#deployments.find(id, tx, { lock: true });
      if (!current) throw new NotFoundError('deployment');
      const extra = await work(tx, current);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action,
          targetType: 'deployment',
          targetId: id,
          details: { ...details, ...(extra ?? {}) },
        },
        tx,
      );
      return (await this.#deployments.find(id, tx))!;
    });
  }
}
