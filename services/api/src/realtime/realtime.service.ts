import type {
  AlertPayload,
  ClientToServerEvents,
  CropPayload,
  ServerToClientEvents,
  SubscribeAck,
  SubscribeRequest,
  UnsubscribeAck,
} from '@vigil/contract';
import type { Logger } from '@vigil/core';
import type { Alert } from '@vigil/proto';
import type { Namespace, Socket } from 'socket.io';
import { type AlertService, MAX_REPLAY } from '../alerts/alert.service.js';
import type { VerifiedToken } from '../auth/auth.service.js';
import type { AuthUser } from '../auth/roles.js';
import { isUuid } from '../uuid.js';
import type { AccessChange, LiveEvent } from './alert-feed.js';

/** Per-socket data set by the handshake. */
export interface SocketData {
  user: AuthUser;
  token: string;
}

export type AlertSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
export type AlertNamespace = Namespace<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/** Alert ids remembered per subscription so a replayed or redelivered alert is sent once. */
const SENT_IDS_KEPT = 5000;
/** Alerts older than this when taken off the stream are not pushed live: clients fetch them with `since`. */
export const LIVE_ALERT_MAX_AGE_MS = 5 * 60_000;

interface Subscription {
  /** While the missed alerts are read, live ones wait here, so their order and uniqueness hold. */
  buffer: AlertPayload[] | null;
  sent: Set<string>;
}

/** Events sent to every subscriber of their deployment (a dispatch also reaches its officer). */
const DEPLOYMENT_EVENTS = new Set<LiveEvent['type']>(['adjudication', 'claim', 'verification', 'purged']);

export const deploymentRoom = (deploymentId: string) => `deployment:${deploymentId}`;
export const userRoom = (userId: string) => `user:${userId}`;

/** Who receives which alert on this process's sockets, and what a reconnecting client missed. */
export class RealtimeService {
  /** deploymentId → sockets subscribed to it, with their state. */
  readonly #subscribers = new Map<string, Map<AlertSocket, Subscription>>();

  constructor(
    private readonly namespace: AlertNamespace,
    private readonly alerts: AlertService,
    private readonly logger: Logger,
    /** AuthService.verifyToken: the session and user as the database has them now. */
    private readonly verifyToken: (token: string) => Promise<VerifiedToken>,
  ) {}

  /** Wires a verified socket's events. */
  connected(socket: AlertSocket): void {
    void socket.join(userRoom(socket.data.user.id));
    socket.on('subscribe', (request, ack) => {
      this.subscribe(socket, request).then(
        (result) => (typeof ack === 'function' ? ack(result) : undefined),
        (error: unknown) => {
          this.logger.warn({ err: error }, 'alert subscription failed');
          if (typeof ack === 'function')
            ack({ ok: false, error: { code: 'internal_error', message: 'subscription failed' } });
        },
      );
    });
    socket.on('unsubscribe', (request, ack) => {
      const result = this.unsubscribe(socket, request);
      if (typeof ack === 'function') ack(result);
    });
    socket.on('disconnect', () => {
      for (const [deploymentId, sockets] of this.#subscribers) {
        sockets.delete(socket);
        if (sockets.size === 0) this.#subscribers.delete(deploymentId);
      }
    });
  }

  async subscribe(socket: AlertSocket, request: SubscribeRequest): Promise<SubscribeAck> {
    const deploymentId = request?.deploymentId;
    const since = request?.since;
    if (!isUuid(deploymentId))
      return { ok: false, error: { code: 'invalid_request', message: 'deploymentId must be a UUID' } };
    if (since !== undefined && !/^[0-9]{1,19}$/.test(String(since)))
      return { ok: false, error: { code: 'invalid_request', message: 'since must be an alert id' } };
    if (!(await this.alerts.mayReceive(socket.data.user, deploymentId)))
      return {
        ok: false,
        error: { code: 'not_assigned', message: 'you are not assigned to this deployment' },
      };
    if (!socket.connected) return { ok: false, error: { code: 'disconnected', message: 'socket closed' } };

    let sockets = this.#subscribers.get(deploymentId);
    if (!sockets) {
      sockets = new Map();
      this.#subscribers.set(deploymentId, sockets);
    }
    const subscription: Subscription = sockets.get(socket) ?? { buffer: null, sent: new Set() };
    subscription.buffer ??= [];
    sockets.set(socket, subscription);
    await socket.join(deploymentRoom(deploymentId));

    let replayed = 0;
    if (since !== undefined) {
      for await (const alert of this.alerts.missedSince(socket.data.user, deploymentId, String(since))) {
        if (this.#send(socket, subscription, alert)) replayed++;
      }
    }
    // Alerts that arrive while the buffered ones are sent (each send awaits its audit row) queue
    // behind them, so the client sees every alert in order.
    let waiting = subscription.buffer ?? [];
    while (waiting.length > 0) {
      subscription.buffer = [];
      for (const alert of waiting) await this.#sendLive(socket, subscription, alert);
      waiting = subscription.buffer;
    }
    subscription.buffer = null;
    return { ok: true, deploymentId, replayed, truncated: replayed >= MAX_REPLAY };
  }

  unsubscribe(socket: AlertSocket, request: { deploymentId: string }): UnsubscribeAck {
    const deploymentId = request?.deploymentId;
    if (!isUuid(deploymentId))
      return { ok: false, error: { code: 'invalid_request', message: 'deploymentId must be a UUID' } };
    const sockets = this.#subscribers.get(deploymentId);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.#subscribers.delete(deploymentId);
    void socket.leave(deploymentRoom(deploymentId));
    return { ok: true };
  }

  /** Sends a live alert (replays are audited by page), the view of its face crop audited first. */
  async #sendLive(socket: AlertSocket, subscription: Subscription, alert: AlertPayload): Promise<void> {
    if (subscription.sent.has(alert.id)) return;
    await this.alerts.recordLiveCropView(socket.data.user, alert);
    this.#send(socket, subscription, alert);
  }

  #send(socket: AlertSocket, subscription: Subscription, alert: AlertPayload): boolean {
    if (subscription.sent.has(alert.id)) return false;
    subscription.sent.add(alert.id);
    if (subscription.sent.size > SENT_IDS_KEPT) {
      const oldest = subscription.sent.values().next().value;
      if (oldest !== undefined) subscription.sent.delete(oldest);
    }
    socket.emit('alert', alert);
    return true;
  }

  /**
   * An alert any API process took off the stream: sent to this process's subscribers of its
   * deployment, each re-checked first (session alive, user enabled, role and assignment current).
   */
  async deliverAlert(message: Alert): Promise<void> {
    const sockets = this.#subscribers.get(message.deploymentId);
    if (!sockets || sockets.size === 0) return;
    const alert = await this.alerts.payloadOfMessage(message);
    if (!alert) return;
    await Promise.all(
      [...sockets].map(async ([socket, subscription]) => {
        // Live alerts that arrive during a replay wait in the buffer; subscribe checked this socket.
        if (subscription.buffer) subscription.buffer.push(alert);
        else if (await this.#mayStillReceive(socket, message.deploymentId))
          await this.#sendLive(socket, subscription, alert);
      }),
    );
  }

  /** An adjudication, dispatch, claim, verification, purge or access change recorded by any API process. */
  async deliverEvent(event: LiveEvent): Promise<void> {
    if (event?.type === 'access') return this.accessChanged(event.payload ?? {});
    if (!isUuid(event?.payload?.deploymentId)) return;
    const { deploymentId } = event.payload;
    const targets = new Set(this.#subscribers.get(deploymentId)?.keys() ?? []);
    if (event.type === 'dispatch' && isUuid(event.payload.officerId)) {
      for (const socket of this.namespace.sockets.values())
        if (socket.data.user?.id === event.payload.officerId) targets.add(socket);
    } else if (event.type === 'purged') {
      // Officers subscribe to no deployment: their phones hold its alerts passed to them all the same.
      for (const socket of this.namespace.sockets.values())
        if (socket.data.user?.role === 'officer') targets.add(socket);
    } else if (!DEPLOYMENT_EVENTS.has(event.type)) return;
    await Promise.all(
      [...targets].map(async (socket) => {
        if (event.type === 'dispatch' && socket.data.user?.role === 'officer') {
          // An officer is sent what is passed to them, never the deployment's other events.
          if (event.payload.officerId !== socket.data.user.id) return;
          if (await this.#mayReceiveDispatch(socket, deploymentId)) socket.emit('dispatch', event.payload);
          return;
        }
        if (event.type === 'purged' && socket.data.user?.role === 'officer') {
          if (await this.#mayReceiveDispatch(socket, deploymentId)) socket.emit('purged', event.payload);
          return;
        }
        if (!(await this.#mayStillReceive(socket, deploymentId))) return;
        if (event.type === 'adjudication') socket.emit('adjudication', event.payload);
        else if (event.type === 'claim') socket.emit('claim', event.payload);
        else if (event.type === 'verification') socket.emit('verification', event.payload);
        else if (event.type === 'purged') socket.emit('purged', event.payload);
        else socket.emit('dispatch', event.payload);
      }),
    );
  }

  /** An alert whose crop a better view of its track replaced: its deployment's subscribers fetch it again. */
  async deliverCrop(crop: CropPayload): Promise<void> {
    if (!isUuid(crop?.deploymentId) || !/^[0-9]{1,19}$/.test(String(crop.alertId))) return;
    const sockets = this.#subscribers.get(crop.deploymentId);
    if (!sockets) return;
    await Promise.all(
      [...sockets.keys()].map(async (socket) => {
        if (await this.#mayStillReceive(socket, crop.deploymentId)) socket.emit('crop', crop);
      }),
    );
  }

  /**
   * Re-checks the sockets a change concerns (a user's, or every subscriber of a deployment; both when
   * both are given): a dead session disconnects, a lost assignment or role ends the subscription.
   */
  async accessChanged(change: AccessChange): Promise<void> {
    const checks: Promise<boolean>[] = [];
    for (const socket of this.namespace.sockets.values()) {
      const ofUser = isUuid(change.userId) && socket.data.user?.id === change.userId;
      for (const [deploymentId, sockets] of this.#subscribers) {
        if (!sockets.has(socket)) continue;
        if (ofUser || deploymentId === change.deploymentId)
          checks.push(this.#mayStillReceive(socket, deploymentId));
      }
      if (ofUser) checks.push(this.#sessionAlive(socket));
    }
    await Promise.all(checks);
  }

  /** Whether the socket's session is still valid and its user may still see the deployment; withdraws it if not. */
  async #mayStillReceive(socket: AlertSocket, deploymentId: string): Promise<boolean> {
    if (!(await this.#sessionAlive(socket))) return false;
    if (await this.alerts.mayReceive(socket.data.user, deploymentId)) return true;
    this.#withdraw(socket, deploymentId);
    return false;
  }

  /** Whether an officer's socket may still be sent what is passed to them on this deployment. */
  async #mayReceiveDispatch(socket: AlertSocket, deploymentId: string): Promise<boolean> {
    if (!(await this.#sessionAlive(socket))) return false;
    return this.alerts.mayReceiveDispatch(socket.data.user, deploymentId);
  }

  /** Refreshes the socket's user from its session (role changes), or disconnects it when the session ended. */
  async #sessionAlive(socket: AlertSocket): Promise<boolean> {
    if (!socket.connected) return false;
    try {
      socket.data.user = (await this.verifyToken(socket.data.token)).user;
      return true;
    } catch {
      socket.disconnect(true);
      return false;
    }
  }

  /** Ends one subscription the socket may no longer hold and tells the client why. */
  #withdraw(socket: AlertSocket, deploymentId: string): void {
    const sockets = this.#subscribers.get(deploymentId);
    if (!sockets?.delete(socket)) return;
    if (sockets.size === 0) this.#subscribers.delete(deploymentId);
    void socket.leave(deploymentRoom(deploymentId));
    this.logger.info({ userId: socket.data.user.id, deploymentId }, 'alert subscription withdrawn');
    socket.emit('unsubscribed', {
      deploymentId,
      error: { code: 'not_assigned', message: 'you are no longer assigned to this deployment' },
    });
  }
}
