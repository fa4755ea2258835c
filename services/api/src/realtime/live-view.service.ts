import type { WatchAck, WatchRequest } from '@vigil/contract';
import { allSubjects, type Bus, type BusSubscription, type Logger, parseSubject, subject } from '@vigil/core';
import { decodeSceneImage } from '@vigil/proto';
import type { AlertService } from '../alerts/alert.service.js';
import type { VerifiedToken } from '../auth/auth.service.js';
import type { AccessChange } from './alert-feed.js';
import type { AlertSocket } from './realtime.service.js';

/**
 * 2 s: how often a watched camera's `watch` notice is repeated (the detectors keep a camera's
 * demand for LIVE_DEMAND_MS, 5 s), and how often each watcher's access is checked again.
 */
export const WATCH_NOTICE_MS = 2000;

const NOT_ALLOWED = { code: 'not_assigned', message: 'you may not watch this camera' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Cameras' live views on this API process: who watches which camera, the `watch` notices that
 * make the detectors send its frames, and each frame passed on to the sockets watching it. Frames
 * go from the bus to the sockets and nowhere else: nothing is written, kept or logged.
 */
export class LiveViewService {
  /** `deployment/camera` → the sockets watching it. */
  readonly #watchers = new Map<string, Set<AlertSocket>>();
  #frames: BusSubscription | undefined;
  #ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly alerts: AlertService,
    private readonly logger: Logger,
    private readonly verifyToken: (token: string) => Promise<VerifiedToken>,
  ) {}

  start(): void {
    this.#frames = this.bus.subscribe(allSubjects('liveview'), (message) => this.#deliver(message), {
      maxPending: 64,
    });
    this.#ticker = setInterval(() => void this.#tick(), WATCH_NOTICE_MS);
    this.#ticker.unref();
  }

  stop(): void {
    this.#frames?.unsubscribe();
    if (this.#ticker) clearInterval(this.#ticker);
    this.#watchers.clear();
  }

  /** Wires a socket's `watch` and `unwatch`. */
  connected(socket: AlertSocket): void {
    socket.on('watch', (request, ack) => {
      this.watch(socket, request).then(
        (result) => (typeof ack === 'function' ? ack(result) : undefined),
        (error: unknown) => {
          this.logger.warn({ err: error }, 'live view watch failed');
          if (typeof ack === 'function')
            ack({ ok: false, error: { code: 'internal_error', message: 'watch failed' } });
        },
      );
    });
    socket.on('unwatch', (request, ack) => {
      const { deploymentId, cameraId } = request ?? {};
      const wellFormed = UUID.test(String(deploymentId)) && UUID.test(String(cameraId));
      if (wellFormed) this.#remove(socket, `${deploymentId}/${cameraId}`);
      if (typeof ack === 'function')
        ack(
          wellFormed
            ? { ok: true }
            : {
                ok: false,
                error: { code: 'invalid_request', message: 'deploymentId and cameraId must be UUIDs' },
              },
        );
    });
    socket.on('disconnect', () => {
      for (const key of this.#watchers.keys()) this.#remove(socket, key);
    });
  }

  async watch(socket: AlertSocket, request: WatchRequest): Promise<WatchAck> {
    const { deploymentId, cameraId } = request ?? {};
    if (!(await this.alerts.startLiveView(socket.data.user, deploymentId, cameraId)))
      return { ok: false, error: NOT_ALLOWED };
    if (!socket.connected) return { ok: false, error: { code: 'disconnected', message: 'socket closed' } };
    const key = `${deploymentId}/${cameraId}`;
    const sockets = this.#watchers.get(key) ?? new Set();
    const first = sockets.size === 0;
    sockets.add(socket);
    this.#watchers.set(key, sockets);
    if (first) this.bus.publish(subject('watch', deploymentId, cameraId), new Uint8Array(0));
    return { ok: true };
  }

  /** Someone's access may have shrunk: their watches (or the deployment's) are checked at once. */
  async accessChanged(change: AccessChange): Promise<void> {
    await this.#recheck(
      (socket, deploymentId) =>
        socket.data.user?.id === change.userId || deploymentId === change.deploymentId,
    );
  }

  /** Repeats the notices of watched cameras and drops watchers who may no longer watch. */
  async #tick(): Promise<void> {
    try {
      await this.#recheck(() => true);
      for (const key of this.#watchers.keys()) {
        const [deploymentId, cameraId] = key.split('/') as [string, string];
        this.bus.publish(subject('watch', deploymentId, cameraId), new Uint8Array(0));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'live view notices failed');
    }
  }

  async #recheck(concerns: (socket: AlertSocket, deploymentId: string) => boolean): Promise<void> {
    const checks: Promise<void>[] = [];
    for (const [key, sockets] of this.#watchers) {
      const [deploymentId, cameraId] = key.split('/') as [string, string];
      for (const socket of sockets) {
        if (!concerns(socket, deploymentId)) continue;
        checks.push(
          this.#mayStillWatch(socket, deploymentId).then((allowed) => {
            if (allowed) return;
            this.#remove(socket, key);
            socket.emit('unwatched', { deploymentId, cameraId, error: NOT_ALLOWED });
          }),
        );
      }
    }
    await Promise.all(checks);
  }

  async #mayStillWatch(socket: AlertSocket, deploymentId: string): Promise<boolean> {
    if (!socket.connected) return false;
    try {
      socket.data.user = (await this.verifyToken(socket.data.token)).user;
    } catch {
      return false;
    }
    return this.alerts.mayReceive(socket.data.user, deploymentId);
  }

  #remove(socket: AlertSocket, key: string): void {
    const sockets = this.#watchers.get(key);
    if (!sockets?.delete(socket)) return;
    if (sockets.size === 0) this.#watchers.delete(key);
  }

  #deliver(message: { subject: string; data: Uint8Array }): void {
    const parsed = parseSubject(message.subject);
    if (parsed?.kind !== 'liveview') return;
    const { deploymentId, cameraId } = parsed;
    const sockets = this.#watchers.get(`${deploymentId}/${cameraId}`);
    if (!sockets || sockets.size === 0) return;
    let frame: ReturnType<typeof decodeSceneImage>;
    try {
      frame = decodeSceneImage(message.data);
    } catch {
      return; // not a frame: nothing to show
    }
    const payload = {
      deploymentId,
      cameraId,
      image: `data:image/jpeg;base64,${Buffer.from(frame.jpeg).toString('base64')}`,
      width: frame.width,
      height: frame.height,
      capturedAt: new Date(frame.capturedAtMs).toISOString(),
    };
    // Not zero-filled: on the in-process bus the bytes may be another subscriber's message too.
    for (const socket of sockets) socket.emit('liveview', payload);
  }
}
