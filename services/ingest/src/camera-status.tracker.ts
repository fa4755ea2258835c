import { allSubjects, type Bus, type BusSubscription } from '@vigil/core';
import { CameraState, decodeCameraStatus, decodeStageCounters } from '@vigil/proto';

/**
 * How a camera's pipeline is doing, read and analysed together: `online` when its frames are read
 * and analysed, `degraded` when they are read but no detector finished one lately, `offline` when
 * no frames are read (or ingest itself is silent).
 */
export type CameraHealthState = 'online' | 'degraded' | 'offline' | 'starting' | 'stopped';

/** The stage that is missing when a camera is not `online`. */
export type PipelineStage = 'ingest' | 'detector';

/** How a camera looks to the API's `GET /deployments/:id/status`. */
export interface CameraStatusView {
  cameraId: string;
  /** What ingest reports: frames are read (`online`) or not. */
  status: 'online' | 'offline' | 'starting' | 'stopped';
  /** Frames read per second. */
  fps: number;
  framesTotal: number;
  framesDropped: number;
  /**
   * Frames read and never analysed since ingest started the camera, by reason: queue_full,
   * publish_failed (bus down), detector_busy, detector_unavailable (see NOT_ANALYSED_REASONS).
   */
  framesNotAnalysed: Record<string, number>;
  restarts: number;
  lastErrorCode: string | null;
  lastFrameAt: string | null;
  reportedAt: string;
  /** Frames the detectors finished per second, averaged over the analysis window. */
  analysedFps: number;
  /** Read and analysed together (see CameraHealthState). */
  state: CameraHealthState;
  /** Why `state` is not `online`: `not_analysed`, `no_status`, or ingest's last error code. */
  reason: string | null;
  /** The stage that is missing: `detector` (frames read, none analysed), `ingest` (no frames read). */
  missingStage: PipelineStage | null;
}

/** No report for this long (3 status intervals) means the ingest process itself is gone: offline. */
export const STATUS_STALE_MS = 6000;

/**
 * 5 s: five detector reports (one a second), long enough that a detector busy with other cameras
 * still finishes one of this camera's frames, short enough that a dead detector shows at once.
 */
export const ANALYSIS_WINDOW_MS = 5000;

export interface CameraStatusTrackerOptions {
  /**
   * A camera read for this long with no frame analysed in the last this long is `degraded`; the
   * analysed fps is averaged over it too.
   */
  analysisWindowMs?: number;
}

const STATE_NAMES: Record<number, CameraStatusView['status']> = {
  [CameraState.STARTING]: 'starting',
  [CameraState.ONLINE]: 'online',
  [CameraState.OFFLINE]: 'offline',
  [CameraState.STOPPED]: 'stopped',
};

type IngestView = Omit<CameraStatusView, 'analysedFps' | 'state' | 'reason' | 'missingStage'>;

interface Entry extends IngestView {
  deploymentId: string;
  receivedAt: number;
  /** When this tracker first heard the camera online since it was last not. */
  onlineSince: number | undefined;
}

/** One detector report: frames finished over `windowMs` up to `receivedAt`. */
interface AnalysisReport {
  receivedAt: number;
  windowMs: number;
  processed: number;
}

/**
 * Keeps the latest status of every camera in memory from the status subjects (ingest: frames read)
 * and the counters subjects (detectors: frames analysed), for the API process. `start()`
 * subscribes; `forDeployment(id)` answers the status route; `missingStages()` feeds `/ready`.
 */
export class CameraStatusTracker {
  readonly #latest = new Map<string, Entry>();
  readonly #analysed = new Map<string, AnalysisReport[]>();
  readonly #windowMs: number;
  #subscriptions: BusSubscription[] = [];

  constructor(
    private readonly bus: Bus,
    options: CameraStatusTrackerOptions = {},
  ) {
    this.#windowMs = options.analysisWindowMs ?? ANALYSIS_WINDOW_MS;
  }

  start(): this {
    if (this.#subscriptions.length > 0) return this;
    const status = this.bus.subscribe(
      allSubjects('status'),
      (message) => {
        const s = decodeCameraStatus(message.data);
        if (!s.cameraId) return;
        const now = Date.now();
        const status = STATE_NAMES[s.state] ?? 'offline';
        const previous = this.#latest.get(s.cameraId);
        this.#latest.set(s.cameraId, {
          deploymentId: s.deploymentId,
          cameraId: s.cameraId,
          status,
          fps: Math.round(s.fps * 100) / 100,
          framesTotal: s.framesTotal,
          framesDropped: s.framesDropped,
          framesNotAnalysed: { ...s.framesNotAnalysed },
          restarts: s.restarts,
          lastErrorCode: s.lastErrorCode || null,
          lastFrameAt: s.lastFrameAtMs ? new Date(s.lastFrameAtMs).toISOString() : null,
          reportedAt: new Date(s.reportedAtMs || now).toISOString(),
          receivedAt: now,
          onlineSince: status === 'online' ? (previous?.onlineSince ?? now) : undefined,
        });
      },
      { maxPending: 10_000 },
    );
    const counters = this.bus.subscribe(
      allSubjects('counters'),
      (message) => {
        const c = decodeStageCounters(message.data);
        if (c.stage !== 'detector' || !c.cameraId) return;
        const now = Date.now();
        const reports = (this.#analysed.get(c.cameraId) ?? []).filter(
          (r) => now - r.receivedAt <= this.#windowMs,
        );
        reports.push({ receivedAt: now, windowMs: c.windowMs, processed: c.processed });
        this.#analysed.set(c.cameraId, reports);
      },
      { maxPending: 10_000 },
    );
    this.#subscriptions = [status, counters];
    return this;
  }

  /**
   * Frames analysed per second over the window: what the reports received in it counted, over the
   * time they cover (several detectors sharing a camera each report their own share).
   */
  #analysedFps(cameraId: string, now: number): { fps: number; frames: number } {
    const reports = (this.#analysed.get(cameraId) ?? []).filter((r) => now - r.receivedAt <= this.#windowMs);
    if (reports.length === 0) return { fps: 0, frames: 0 };
    const frames = reports.reduce((sum, r) => sum + r.processed, 0);
    const from = Math.min(...reports.map((r) => r.receivedAt - r.windowMs));
    const to = Math.max(...reports.map((r) => r.receivedAt));
    const fps = to > from ? frames / ((to - from) / 1000) : 0;
    return { fps: Math.round(fps * 100) / 100, frames };
  }

  /** Latest status of one camera; a camera not heard from lately is reported offline. */
  get(cameraId: string): CameraStatusView | undefined {
    const entry = this.#latest.get(cameraId);
    if (!entry) return undefined;
    const now = Date.now();
    const { deploymentId: _d, receivedAt, onlineSince, ...view } = entry;
    const analysed = this.#analysedFps(cameraId, now);
    if (now - receivedAt > STATUS_STALE_MS && view.status !== 'stopped') {
      return {
        ...view,
        status: 'offline',
        fps: 0,
        lastErrorCode: view.lastErrorCode ?? 'no_status',
        analysedFps: analysed.fps,
        state: 'offline',
        reason: 'no_status',
        missingStage: 'ingest',
      };
    }
    const health = { analysedFps: analysed.fps, state: view.status, reason: null, missingStage: null };
    if (view.status === 'offline') {
      return { ...view, ...health, reason: view.lastErrorCode ?? 'no_frames', missingStage: 'ingest' };
    }
    // Read for a whole window with nothing analysed in it: no detector is taking this camera's frames.
    if (view.status === 'online' && onlineSince !== undefined && now - onlineSince >= this.#windowMs) {
      if (analysed.frames === 0) {
        return { ...view, ...health, state: 'degraded', reason: 'not_analysed', missingStage: 'detector' };
      }
    }
    return { ...view, ...health };
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

  /**
   * How many cameras (not stopped) miss each stage right now: `detector` for cameras read but not
   * analysed, `ingest` for cameras whose ingest went silent. Counts only: no camera id leaves here.
   */
  missingStages(): Record<PipelineStage, number> {
    const missing: Record<PipelineStage, number> = { ingest: 0, detector: 0 };
    for (const cameraId of this.#latest.keys()) {
      const view = this.get(cameraId);
      if (
        view?.missingStage === 'detector' ||
        (view?.missingStage === 'ingest' && view.reason === 'no_status')
      )
        missing[view.missingStage]++;
    }
    return missing;
  }

  stop(): void {
    for (const subscription of this.#subscriptions) subscription.unsubscribe();
    this.#subscriptions = [];
  }
}
