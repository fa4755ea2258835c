import type {
  AdjudicationPayload,
  AlertPayload,
  ClaimPayload,
  ClientToServerEvents,
  CropPayload,
  DispatchPayload,
  LiveViewPayload,
  PurgedPayload,
  ServerToClientEvents,
  SubscribeAck,
  VerificationPayload,
  WatchAck,
} from '@vigil/contract';
import { io, type Socket } from 'socket.io-client';
import { loadSession } from './session.js';

export type {
  AdjudicationPayload,
  AlertPayload,
  ClaimPayload,
  DispatchPayload,
  LiveViewPayload,
  PurgedPayload,
  VerificationPayload,
};

export interface AlertFeedHandlers {
  alert(alert: AlertPayload): void;
  adjudication(adjudication: AdjudicationPayload): void;
  dispatch?(dispatch: DispatchPayload): void;
  claim?(claim: ClaimPayload): void;
  /** A better view of the alert's track replaced its crop. */
  crop?(crop: CropPayload): void;
  verification?(verification: VerificationPayload): void;
  /** The deployment's alerts were deleted on the server (authorisation refused or lapsed). */
  purged?(purged: PurgedPayload): void;
  connection(state: 'connected' | 'disconnected' | 'refused', detail?: string): void;
  /** A frame of a camera this feed watches. */
  liveview?(frame: LiveViewPayload): void;
  /** The server ended a camera's live view (access withdrawn). */
  unwatched?(cameraId: string, reason: string): void;
}

/**
 * The live alert feed of one deployment. On every (re)connection it subscribes again with the id of
 * the last alert it saw, so the server sends what was missed while the connection was down.
 */
export class AlertFeed {
  readonly #socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  #lastAlertId: string | undefined;
  /** Cameras whose live view this feed watches: watched again on every reconnection. */
  readonly #watched = new Set<string>();

  constructor(
    private readonly deploymentId: string | null,
    handlers: AlertFeedHandlers,
    lastAlertId?: string,
  ) {
    this.#lastAlertId = lastAlertId;
    this.#socket = io('/alerts', {
      path: '/socket.io',
      auth: (callback) => callback({ token: loadSession()?.token ?? '' }),
      transports: ['websocket'],
    });
    this.#socket.on('connect', () => {
      void this.#subscribe().then((ack) => {
        if (ack && !ack.ok) handlers.connection('refused', ack.error.message);
        else handlers.connection('connected');
      });
      for (const cameraId of this.#watched) void this.#emitWatch('watch', cameraId);
    });
    this.#socket.on('disconnect', () => handlers.connection('disconnected'));
    this.#socket.on('connect_error', (error) => {
      const data = (error as Error & { data?: { message?: string } }).data;
      handlers.connection('refused', data?.message ?? error.message);
    });
    this.#socket.on('alert', (alert) => {
      if (this.#lastAlertId === undefined || BigInt(alert.id) > BigInt(this.#lastAlertId))
        this.#lastAlertId = alert.id;
      handlers.alert(alert);
    });
    this.#socket.on('adjudication', (adjudication) => handlers.adjudication(adjudication));
    this.#socket.on('dispatch', (dispatch) => handlers.dispatch?.(dispatch));
    // Access withdrawn while connected (unassigned, demoted): the feed says so instead of going quiet.
    this.#socket.on('unsubscribed', (notice) => {
      if (notice.deploymentId === this.deploymentId) handlers.connection('refused', notice.error.message);
    });
    this.#socket.on('claim', (claim) => handlers.claim?.(claim));
    this.#socket.on('crop', (crop) => {
      if (crop.deploymentId === this.deploymentId) handlers.crop?.(crop);
    });
    this.#socket.on('verification', (verification) => {
      if (verification.deploymentId === this.deploymentId) handlers.verification?.(verification);
    });
    // A feed of no one deployment (the officer's) hears the purge of any deployment it holds alerts of.
    this.#socket.on('purged', (purged) => {
      if (this.deploymentId === null || purged.deploymentId === this.deploymentId) handlers.purged?.(purged);
    });
    this.#socket.on('liveview', (frame) => {
      if (frame.deploymentId === this.deploymentId && this.#watched.has(frame.cameraId))
        handlers.liveview?.(frame);
    });
    this.#socket.on('unwatched', (notice) => {
      if (notice.deploymentId !== this.deploymentId) return;
      this.#watched.delete(notice.cameraId);
      handlers.unwatched?.(notice.cameraId, notice.error.message);
    });
  }

  /** Starts a camera's live view: frames arrive as `liveview` while it is watched. */
  async watch(cameraId: string): Promise<WatchAck | undefined> {
    this.#watched.add(cameraId);
    const ack = await this.#emitWatch('watch', cameraId);
    if (ack && !ack.ok) this.#watched.delete(cameraId);
    return ack;
  }

  /** Stops a camera's live view. */
  unwatch(cameraId: string): void {
    this.#watched.delete(cameraId);
    void this.#emitWatch('unwatch', cameraId);
  }

  #emitWatch(event: 'watch' | 'unwatch', cameraId: string): Promise<WatchAck | undefined> {
    if (!this.deploymentId) return Promise.resolve(undefined);
    return this.#socket
      .timeout(15_000)
      .emitWithAck(event, { deploymentId: this.deploymentId, cameraId })
      .catch(() => undefined);
  }

  async #subscribe(): Promise<SubscribeAck | undefined> {
    if (!this.deploymentId) return undefined;
    const request =
      this.#lastAlertId === undefined
        ? { deploymentId: this.deploymentId }
        : { deploymentId: this.deploymentId, since: this.#lastAlertId };
    return this.#socket
      .timeout(15_000)
      .emitWithAck('subscribe', request)
      .catch(() => undefined);
  }

  close(): void {
    this.#socket.disconnect();
  }
}
