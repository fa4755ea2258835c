import type {
  AdjudicationPayload,
  AlertPayload,
  ClaimPayload,
  DispatchPayload,
  Outcome,
  SubjectPriority,
  VerificationPayload,
} from '@vigil/contract';
import {
  type AuditRepository,
  alertCropContext,
  alertSceneContext,
  type Database,
  type DataCipher,
  NotFoundError,
  ValidationError,
} from '@vigil/core';
import type { Alert } from '@vigil/proto';
import type { AuthUser } from '../auth/roles.js';
import type { AlertFeed } from '../realtime/alert-feed.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import type { VerificationRepository } from '../verification/verification.repository.js';
import { assertActionable } from '../verification/verification.service.js';
import {
  AlertClaimedError,
  DispatchNotAcknowledgedError,
  InvalidOfficerError,
  NotAssignedError,
  NotYourDispatchError,
} from './alert.errors.js';
import type { AlertClaimRepository, ClaimRecord } from './alert-claim.repository.js';
import type {
  AdjudicationRecord,
  AlertRecord,
  AlertReviewRepository,
  DispatchedAlertRecord,
  DispatchRecord,
} from './alert-review.repository.js';

/** An alert in a listing: the contract payload (probe only when asked) and what was decided about it. */
export interface AlertView extends Omit<AlertPayload, 'probeImage'> {
  probeImage?: string;
  cameraName: string | null;
  createdAt: string;
  adjudications: AdjudicationPayload[];
  /** Who is handling the alert, or null. */
  claim: ClaimPayload | null;
  /** Whom it was passed to, oldest first, and how far each officer has got (in listings only). */
  dispatches?: DispatchPayload[];
}

export interface OfficerAlertView extends DispatchPayload {
  alert: AlertView;
  description: string;
  deploymentName: string;
  location: string;
  outcome: AdjudicationPayload | null;
}

/** Alerts a reconnecting client is sent at most in one go; older gaps are paged with the list route. */
export const MAX_REPLAY = 1000;
const REPLAY_PAGE = 200;
const BIGINT_TEXT = /^[0-9]{1,19}$/;
/** Who an alert may be passed to: officers, and operators on the ground as before the officer role. */
const RECEIVES_DISPATCHES = new Set(['officer', 'operator']);

/** The steps an officer records after an alert is passed to them, in order, and their audit actions. */
export type DispatchStep = 'acknowledged' | 'en_route';
const STEP_ACTIONS: Record<DispatchStep, string> = {
  acknowledged: 'alert.dispatch_acknowledge',
  en_route: 'alert.dispatch_en_route',
};

/** Scores and thresholds are float32 in the message and `real` in the table: 4 decimals read the same from both. */
const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

export function referenceImageUrl(referenceImageId: string | null | undefined): string | null {
  return referenceImageId ? `/api/v1/reference-images/${referenceImageId}` : null;
}

function jpegDataUrl(bytes: Uint8Array): string {
  return `data:image/jpeg;base64,${Buffer.from(bytes).toString('base64')}`;
}

function adjudicationPayload(record: AdjudicationRecord): AdjudicationPayload {
  return { ...record, outcome: record.outcome as Outcome };
}

function claimPayload(deploymentId: string, alertId: string, record: ClaimRecord | undefined): ClaimPayload {
  return {
    alertId,
    deploymentId,
    userId: record?.userId ?? null,
    username: record?.username ?? null,
    claimedAt: record?.claimedAt ?? null,
  };
}

/** Reading alerts, recording outcomes, passing alerts to officers; who may see which deployment. */
export class AlertService {
  readonly #alerts: AlertReviewRepository;
  readonly #claims: AlertClaimRepository;
  readonly #audit: AuditRepository;

  readonly #verifications: VerificationRepository;
  readonly #db: Database;

  constructor(
    repositories: Pick<Repositories, 'db' | 'alerts' | 'claims' | 'verifications' | 'audit'>,
    private readonly cipher: DataCipher,
    private readonly feed: AlertFeed,
  ) {
    this.#db = repositories.db;
    this.#alerts = repositories.alerts;
    this.#claims = repositories.claims;
    this.#verifications = repositories.verifications;
    this.#audit = repositories.audit;
  }

  /** Admins see every deployment; operators only those they are assigned to; other roles none. */
  async mayReceive(user: AuthUser, deploymentId: string): Promise<boolean> {
    if (user.role === 'admin') return true;
    if (user.role !== 'operator') return false;
    return this.#alerts.isAssigned(user.id, deploymentId);
  }

  /** Throws 404 for an unknown deployment, 403 for one the caller may not see. */
  async assertMayReceive(user: AuthUser, deploymentId: string): Promise<void> {
    if (!isUuid(deploymentId) || !(await this.#alerts.deploymentExists(deploymentId)))
      throw new NotFoundError('deployment');
    if (!(await this.mayReceive(user, deploymentId))) throw new NotAssignedError();
  }

  async #alertFor(user: AuthUser, alertId: string, withProbe = false): Promise<AlertRecord> {
    const alert = BIGINT_TEXT.test(alertId) ? await this.#alerts.find(alertId, { withProbe }) : undefined;
    if (!alert) throw new NotFoundError('alert');
    // An officer acts on the alerts passed to them, and only those.
    const allowed =
      user.role === 'officer'
        ? await this.#alerts.wasDispatchedTo(alert.id, user.id)
        : await this.mayReceive(user, alert.deploymentId);
    if (!allowed) throw new NotAssignedError();
    return alert;
  }

  /** The contract payload of a stored alert, the probe decrypted. */
  payloadOf(record: AlertRecord): AlertPayload {
    return {
      id: record.id,
      deploymentId: record.deploymentId,
      cameraId: record.cameraId,
      subjectId: record.subjectId,
      label: record.label,
      category: record.category,
      priority: record.priority,
      score: round4(record.score),
      threshold: round4(record.threshold),
      capturedAt: record.capturedAt,
      probeImage: record.encryptedProbe
        ? jpegDataUrl(this.cipher.open(record.encryptedProbe, alertCropContext(record.dedupeKey)))
        : '',
      referenceImageUrl: referenceImageUrl(record.referenceImageId),
    };
  }

  /** The contract payload of an alert off the stream; the crop from the database if the message has none. */
  async payloadOfMessage(alert: Alert): Promise<AlertPayload | undefined> {
    if (!BIGINT_TEXT.test(alert.id) || !isUuid(alert.deploymentId)) return undefined;
    if (alert.probeJpeg.length === 0) {
      const stored = await this.#alerts.find(alert.id, { withProbe: true });
      return stored ? this.payloadOf(stored) : undefined;
    }
    return {
      id: alert.id,
      deploymentId: alert.deploymentId,
      cameraId: alert.cameraId,
      subjectId: alert.subjectId,
      label: alert.label,
      category: alert.category,
      // The matcher copies it from the snapshot, whose subjects' priorities the database constrains.
      priority: alert.priority as SubjectPriority,
      score: round4(alert.score),
      threshold: round4(alert.threshold),
      capturedAt: new Date(alert.capturedAtMs).toISOString(),
      probeImage: jpegDataUrl(alert.probeJpeg),
      referenceImageUrl: referenceImageUrl(alert.referenceImageId),
    };
  }

  /**
   * Records that `user` was shown the face crops of `records` (those that have one), before they are
   * sent: every view of a face is on the audit trail, like a reference image's.
   */
  async recordCropViews(
    user: AuthUser,
    deploymentId: string,
    records: readonly AlertRecord[],
    via: 'list' | 'socket_replay' | 'socket_live' | 'officer',
  ): Promise<void> {
    const alertIds = records.filter((record) => record.encryptedProbe).map((record) => record.id);
    if (alertIds.length === 0) return;
    await this.#audit.append({
      actorId: user.id,
      actorName: user.username,
      action: 'alert_crop.view',
      targetType: 'deployment',
      targetId: deploymentId,
      details: { via, alertIds },
    });
  }

  /**
   * The scene kept with an alert (JPEG: the matched face boxed, every other face blurred), for
   * those who may see the alert; each view is on the audit trail (`alert_scene.view`) before it is
   * returned. 404 `not_found` when no scene was kept (no detector held the frame any more).
   */
  async scene(user: AuthUser, alertId: string): Promise<Buffer> {
    const alert = await this.#alertFor(user, alertId);
    const sealed = await this.#alerts.sceneOf(alert.id);
    if (!sealed) throw new NotFoundError('scene');
    const jpeg = this.cipher.open(sealed, alertSceneContext(alert.dedupeKey));
    await this.#audit.append({
      actorId: user.id,
      actorName: user.username,
      action: 'alert_scene.view',
      targetType: 'deployment',
      targetId: alert.deploymentId,
      details: { alertIds: [alert.id] },
    });
    return jpeg;
  }

  /**
   * Whether `user` may watch the camera's live view: a camera of a deployment they may receive. The
   * start of each watch is on the audit trail (`camera.live_view`).
   */
  async startLiveView(user: AuthUser, deploymentId: string, cameraId: string): Promise<boolean> {
    if (!isUuid(deploymentId) || !isUuid(cameraId)) return false;
    if (!(await this.mayReceive(user, deploymentId))) return false;
    if (!(await this.#alerts.cameraOf(deploymentId, cameraId))) return false;
    await this.#audit.append({
      actorId: user.id,
      actorName: user.username,
      action: 'camera.live_view',
      targetType: 'deployment',
      targetId: deploymentId,
      details: { cameraId },
    });
    return true;
  }

  /** Records that `user` is about to be shown a live alert's face crop (nothing when it has none). */
  async recordLiveCropView(user: AuthUser, alert: AlertPayload): Promise<void> {
    if (!alert.probeImage) return;
    await this.#audit.append({
      actorId: user.id,
      actorName: user.username,
      action: 'alert_crop.view',
      targetType: 'deployment',
      targetId: alert.deploymentId,
      details: { via: 'socket_live', alertIds: [alert.id] },
    });
  }

  /**
   * What a client that last saw `sinceId` missed, oldest first (at most MAX_REPLAY); each page's
   * crops are audited as viewed by `user` before it is yielded. The caller has checked `mayReceive`.
   */
  async *missedSince(user: AuthUser, deploymentId: string, sinceId: string): AsyncGenerator<AlertPayload> {
    let cursor = sinceId;
    let sent = 0;
    while (sent < MAX_REPLAY) {
      const page = await this.#alerts.listSince(
        deploymentId,
        cursor,
        Math.min(REPLAY_PAGE, MAX_REPLAY - sent),
      );
      await this.recordCropViews(user, deploymentId, page, 'socket_replay');
      for (const record of page) yield this.payloadOf(record);
      sent += page.length;
      if (page.length === 0) return;
      cursor = page[page.length - 1]!.id;
    }
  }

  /** A deployment's alerts, newest first, `limit` at a time, older than `before`. */
  async list(
    user: AuthUser,
    deploymentId: string,
    options: { before?: string; limit: number; includeProbe: boolean },
  ): Promise<{ alerts: AlertView[]; total: number; nextBefore: string | null }> {
    await this.assertMayReceive(user, deploymentId);
    if (options.before !== undefined && !BIGINT_TEXT.test(options.before))
      throw new ValidationError('before must be an alert id');
    const records = await this.#alerts.listNewestFirst(deploymentId, {
      before: options.before,
      limit: options.limit,
      withProbe: options.includeProbe,
    });
    const ids = records.map((record) => record.id);
    const [adjudications, claims, dispatches] = await Promise.all([
      this.#alerts.adjudicationsOf(ids),
      this.#claims.claimsOf(ids),
      this.#alerts.dispatchesOf(ids),
    ]);
    if (options.includeProbe) await this.recordCropViews(user, deploymentId, records, 'list');
    const alerts = records.map((record) => ({
      ...this.#view(record, adjudications, options.includeProbe, claims),
      dispatches: dispatches.filter((dispatch) => dispatch.alertId === record.id),
    }));
    const total = await this.#alerts.count(deploymentId);
    const last = records[records.length - 1];
    return { alerts, total, nextBefore: records.length === options.limit && last ? last.id : null };
  }

  #view(
    record: AlertRecord,
    adjudications: AdjudicationRecord[],
    includeProbe: boolean,
    claims: ClaimRecord[] = [],
  ): AlertView {
    const { probeImage, ...payload } = this.payloadOf(
      includeProbe ? record : { ...record, encryptedProbe: null },
    );
    const claim = claims.find((c) => c.alertId === record.id);
    return {
      ...payload,
      ...(includeProbe ? { probeImage } : {}),
      cameraName: record.cameraName,
      createdAt: record.createdAt,
      adjudications: adjudications.filter((a) => a.alertId === record.id).map(adjudicationPayload),
      claim: claim ? claimPayload(record.deploymentId, record.id, claim) : null,
    };
  }

  /**
   * Marks the alert as handled by `user`, so two operators do not act on the same person; 409
   * `alert_claimed` naming the holder when someone else has it. Audited; sent live as `claim`.
   */
  async claim(user: AuthUser, alertId: string): Promise<ClaimPayload> {
    const alert = await this.#alertFor(user, alertId);
    const holder = await this.#db.transaction(async (tx) => {
      const claim = await this.#claims.claim(alert.id, user.id, tx);
      if (claim.userId !== user.id) return claim;
      await this.#audit.append(
        {
          actorId: user.id,
          actorName: user.username,
          action: 'alert.claim',
          targetType: 'alert',
          targetId: alert.id,
          details: { deploymentId: alert.deploymentId },
        },
        tx,
      );
      return claim;
    });
    if (holder.userId !== user.id) throw new AlertClaimedError(holder.username);
    const payload = claimPayload(alert.deploymentId, alert.id, holder);
    this.feed.publishEvent(alert.deploymentId, { type: 'claim', payload });
    return payload;
  }

  /** Gives the alert back: its holder may, an admin may for anyone (someone left their post). */
  async release(user: AuthUser, alertId: string): Promise<ClaimPayload> {
    const alert = await this.#alertFor(user, alertId);
    await this.#db.transaction(async (tx) => {
      const holder = await this.#claims.find(alert.id, tx);
      if (!holder) return;
      if (holder.userId !== user.id && user.role !== 'admin') throw new AlertClaimedError(holder.username);
      await this.#claims.release(alert.id, tx);
      await this.#audit.append(
        {
          actorId: user.id,
          actorName: user.username,
          action: 'alert.release',
          targetType: 'alert',
          targetId: alert.id,
          details: { deploymentId: alert.deploymentId, heldBy: holder.username },
        },
        tx,
      );
    });
    const payload = claimPayload(alert.deploymentId, alert.id, undefined);
    this.feed.publishEvent(alert.deploymentId, { type: 'claim', payload });
    return payload;
  }

  /** Records an outcome (audited in the same transaction) and tells every client on the deployment. */
  async adjudicate(
    user: AuthUser,
    alertId: string,
    input: { outcome: Outcome; note?: string },
  ): Promise<AdjudicationPayload> {
    const alert = await this.#alertFor(user, alertId);
    const note = input.note ?? '';
    const record = await this.#db.transaction(async (tx) => {
      await assertActionable(this.#verifications, tx, alert, input.outcome);
      const inserted = await this.#alerts.insertAdjudication(
        { alertId: alert.id, userId: user.id, outcome: input.outcome, note },
        tx,
      );
      await this.#audit.append(
        {
          actorId: user.id,
          actorName: user.username,
          action: 'alert.adjudicate',
          targetType: 'alert',
          targetId: alert.id,
          details: { deploymentId: alert.deploymentId, outcome: input.outcome, hasNote: note.length > 0 },
        },
        tx,
      );
      return inserted;
    });
    return this.announceAdjudication(record);
  }

  /** Sends a stored outcome live to every client on its deployment (also after two-person verification). */
  announceAdjudication(record: AdjudicationRecord): AdjudicationPayload {
    const payload = adjudicationPayload(record);
    this.feed.publishEvent(record.deploymentId, { type: 'adjudication', payload });
    return payload;
  }

  /** Sends an alert's verification state live to every client on its deployment. */
  announceVerification(payload: VerificationPayload): void {
    this.feed.publishEvent(payload.deploymentId, { type: 'verification', payload });
  }

  /** Users an alert of this deployment can be passed to: its officers first, then its operators. */
  async officers(user: AuthUser, deploymentId: string): Promise<{ id: string; username: string }[]> {
    await this.assertMayReceive(user, deploymentId);
    const users = (await this.#alerts.assignedUsers(deploymentId)).filter((u) =>
      RECEIVES_DISPATCHES.has(u.role),
    );
    users.sort((a, b) => Number(b.role === 'officer') - Number(a.role === 'officer'));
    return users.map(({ id, username }) => ({ id, username }));
  }

  /** An officer assigned to the deployment receives what is passed to them (never its whole feed). */
  async mayReceiveDispatch(user: AuthUser, deploymentId: string): Promise<boolean> {
    if (user.role !== 'officer') return this.mayReceive(user, deploymentId);
    return this.#alerts.isAssigned(user.id, deploymentId);
  }

  /** Passes an alert to an officer on the ground (an operator assigned to the same deployment). */
  async dispatch(
    user: AuthUser,
    alertId: string,
    input: { officerId: string; note?: string },
  ): Promise<DispatchPayload> {
    const alert = await this.#alertFor(user, alertId);
    const officers = await this.#alerts.assignedUsers(alert.deploymentId);
    if (!officers.some((officer) => officer.id === input.officerId && RECEIVES_DISPATCHES.has(officer.role)))
      throw new InvalidOfficerError();
    const note = input.note ?? '';
    const record: DispatchRecord = await this.#db.transaction(async (tx) => {
      await assertActionable(this.#verifications, tx, alert, 'dispatch');
      const inserted = await this.#alerts.insertDispatch(
        { alertId: alert.id, officerId: input.officerId, dispatchedBy: user.id, note },
        tx,
      );
      await this.#audit.append(
        {
          actorId: user.id,
          actorName: user.username,
          action: 'alert.dispatch',
          targetType: 'alert',
          targetId: alert.id,
          details: { deploymentId: alert.deploymentId, officerId: input.officerId },
        },
        tx,
      );
      return inserted;
    });
    this.feed.publishEvent(alert.deploymentId, { type: 'dispatch', payload: record });
    return record;
  }

  /**
   * The officer an alert was passed to records a step: acknowledged, then en route (409
   * `not_acknowledged` before acknowledging). Anyone else gets 403 `not_your_dispatch`. A step already
   * recorded keeps its first time and answers the same again. Audited; sent live as `dispatch`.
   */
  async recordDispatchStep(user: AuthUser, dispatchId: string, step: DispatchStep): Promise<DispatchPayload> {
    if (!BIGINT_TEXT.test(dispatchId)) throw new NotFoundError('dispatch');
    const { record, changed } = await this.#db.transaction(async (tx) => {
      const current = await this.#alerts.findDispatch(dispatchId, tx, true);
      if (!current) throw new NotFoundError('dispatch');
      if (current.officerId !== user.id) throw new NotYourDispatchError();
      const done = step === 'acknowledged' ? current.acknowledgedAt : current.enRouteAt;
      if (done) return { record: current, changed: false };
      if (step === 'en_route' && !current.acknowledgedAt) throw new DispatchNotAcknowledgedError();
      await this.#alerts.markDispatch(dispatchId, step, tx);
      await this.#audit.append(
        {
          actorId: user.id,
          actorName: user.username,
          action: STEP_ACTIONS[step],
          targetType: 'alert',
          targetId: current.alertId,
          details: { deploymentId: current.deploymentId, dispatchId },
        },
        tx,
      );
      return { record: (await this.#alerts.findDispatch(dispatchId, tx))!, changed: true };
    });
    if (changed) this.feed.publishEvent(record.deploymentId, { type: 'dispatch', payload: record });
    return record;
  }

  /**
   * The alerts passed to the caller, newest first: the camera's crop beside the reference photo's URL,
   * and the location. The crops shown are audited as viewed, one entry per deployment.
   */
  async dispatchedTo(user: AuthUser, limit: number): Promise<OfficerAlertView[]> {
    const rows: DispatchedAlertRecord[] = await this.#alerts.dispatchedTo(user.id, limit, true);
    const byDeployment = new Map<string, AlertRecord[]>();
    for (const { alert } of rows)
      byDeployment.set(alert.deploymentId, [...(byDeployment.get(alert.deploymentId) ?? []), alert]);
    for (const [deploymentId, records] of byDeployment)
      await this.recordCropViews(user, deploymentId, records, 'officer');
    const adjudications = await this.#alerts.adjudicationsOf(rows.map((row) => row.alertId));
    return rows.map(({ alert, description, deploymentName, location, outcome, ...dispatch }) => ({
      ...dispatch,
      alert: this.#view(alert, adjudications, true),
      description,
      deploymentName,
      location,
      outcome: outcome ? adjudicationPayload(outcome) : null,
    }));
  }
}
