import type { Logger } from '@vigil/core';
import type { Alert } from '@vigil/proto';
import type { Namespace, Socket } from 'socket.io';
import { type AlertService, MAX_REPLAY } from '../alerts/alert.service.js';
import type { AuthUser } from '../auth/roles.js';
import { isUuid } from '../uuid.js';
import type { LiveEvent } from './alert-feed.repository.js';
import type {
  AlertPayload,
  ClientToServerEvents,
  ServerToClientEvents,
  SubscribeAck,
  SubscribeRequest,
  UnsubscribeAck,
} from './realtime-events.js';

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
      for await (const alert of this.alerts.missedSince(deploymentId, String(since))) {
        if (this.#send(socket, subscription, alert)) replayed++;
      }
    }
    const waiting = subscription.buffer ?? [];
    subscription.buffer = null;
    for (const alert of waiting) this.#send(socket, subscription, alert);
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

  /** An alert any API process took off the stream: sent to this process's subscribers of its deployment. */
  async deliverAlert(message: Alert): Promise<void> {
    const sockets = this.#subscribers.get(message.deploymentId);
    if (!sockets || sockets.size === 0) return;
    const alert = await this.alerts.payloadOfMessage(message);
    if (!alert) return;
    for (const [socket, subscription] of sockets) {
      if (subscription.buffer) subscription.buffer.push(alert);
      else this.#send(socket, subscription, alert);
    }
  }

  /** An adjudication or dispatch recorded by any API process. */
  deliverEvent(event: LiveEvent): void {
    if (!isUuid(event?.payload?.deploymentId)) return;
    const room = deploymentRoom(event.payload.deploymentId);
    if (event.type === 'adjudication') this.namespace.to(room).emit('adjudication', event.payload);
    else if (event.type === 'dispatch' && isUuid(event.payload.officerId))
      this.namespace.to([room, userRoom(event.payload.officerId)]).emit('dispatch', event.payload);
  }
}
