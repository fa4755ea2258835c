import { allSubjects, type Bus, type BusSubscription } from '@vigil/core';
import { CameraState, decodeCameraStatus } from '@vigil/proto';

/** How a camera looks to the API's `GET /deployments/:id/status`. */
export interface CameraStatusView {
  cameraId: string;
  status: 'online' | 'offline' | 'starting' | 'stopped';
  fps: number;
  framesTotal: number;
  framesDropped: number;
  restarts: number;
  lastErrorCode: string | null;
  lastFrameAt: string | null;
  reportedAt: string;
}

/** No report for this long (3 status intervals) means the ingest process itself is gone: offline. */
export const STATUS_STALE_MS = 6000;

const STATE_NAMES: Record<number, CameraStatusView['status']> = {
  [CameraState.STARTING]: 'starting',
  [CameraState.ONLINE]: 'online',
  [CameraState.OFFLINE]: 'offline',
  [CameraState.STOPPED]: 'stopped',
};

/**
 * Keeps the latest status of every camera in memory from the status subjects, for the API process.
 * `start()` subscribes; `forDeployment(id)` answers the status route.
 */
export class CameraStatusTracker {
  readonly #latest = new Map<string, CameraStatusView & { deploymentId: string; receivedAt: number }>();
  #subscription: BusSubscription | undefined;

  constructor(private readonly bus: Bus) {}

  start(): this {
    this.#subscription ??= this.bus.subscribe(
      allSubjects('status'),
      (message) => {
        const s = decodeCameraStatus(message.data);
        if (!s.cameraId) return;
        this.#latest.set(s.cameraId, {
          deploymentId: s.deploymentId,
          cameraId: s.cameraId,
          status: STATE_NAMES[s.state] ?? 'offline',
          fps: Math.round(s.fps * 100) / 100,
          framesTotal: s.framesTotal,
          framesDropped: s.framesDropped,
          restarts: s.restarts,
          lastErrorCode: s.lastErrorCode || null,
          lastFrameAt: s.lastFrameAtMs ? new Date(s.lastFrameAtMs).toISOString() : null,
          reportedAt: new Date(s.reportedAtMs || Date.now()).toISOString(),
          receivedAt: Date.now(),
        });
      },
      { maxPending: 10_000 },
    );
    return this;
  }

  /** Latest status of one camera; a camera not heard from lately is reported offline. */
  get(cameraId: string): CameraStatusView | undefined {
    const entry = this.#latest.get(cameraId);
    if (!entry) return undefined;
    const { deploymentId: _d, receivedAt, ...view } = entry;
    if (Date.now() - receivedAt > STATUS_STALE_MS && view.status !== 'stopped') {
      return { ...view, status: 'offline', fps: 0, lastErrorCode: view.lastErrorCode ?? 'no_status' };
    }
    return view;
  }

  /** Every camera of a deployment heard from, by camera id. */
  forDeployment(deploymentId: string): CameraStatusView[] {
    const views: CameraStatusView[] = [];
    for (const [cameraId, entry] of this.#latest) {
      if (entry.deploymentId !== deploymentId) continue;
      const view = this.get(cameraId);
      if (view) views.push(view);
    }
    return views;
  }

  stop(): void {
    this.#subscription?.unsubscribe();
    this.#subscription = undefined;
  }
}
