import { allSubjects, type Bus, type BusSubscription, type Logger } from '@vigil/core';
import { decodeStageCounters } from '@vigil/proto';
import type { CameraSource } from './camera.repository.js';
import { type CameraLeases, SingleProcessLeases } from './camera-leases.js';
import { type CameraSpec, CameraSupervisor, type SupervisorOptions } from './camera-supervisor.service.js';
import { DEPLOYMENT_CONTROL_SUBJECTS } from './control.js';

export interface IngestOptions extends SupervisorOptions {
  /** Poll of the database for cameras to start or stop, besides the control notices. */
  reconcileIntervalMs?: number;
  /**
   * Which cameras this replica may open. Default: the camera source's own (advisory locks on
   * PostgreSQL), else every camera (one process).
   */
  leases?: CameraLeases;
}

/** Every few seconds, so a missed notice (a restarted NATS link) costs little. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 5000;

const specKey = (c: CameraSpec) => JSON.stringify([c.deploymentId, c.url, c.fps, c.realtime, c.loop]);

/**
 * The ingest role: runs one supervised ffmpeg per camera of every running deployment whose lease
 * it holds, so that several replicas on one database share the cameras, each opened by one of them
 * (docs/decisions/010-camera-leases.md). It reconciles with the database on start, on a timer, at
 * once on a deployment change notice, and when the number of replicas changes; it stops every
 * camera at once when its leases are lost.
 */
export class IngestService {
  readonly #running = new Map<string, { key: string; supervisor: CameraSupervisor }>();
  readonly #leases: CameraLeases;
  /** Deployments of cameras stopped since the last pass: their series go if they stopped running. */
  readonly #forgotten: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #control: BusSubscription | undefined;
  #reports: BusSubscription | undefined;
  #reconciling: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly cameras: CameraSource,
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly options: IngestOptions = {},
  ) {
    this.#leases = options.leases ?? cameras.leases?.(logger) ?? new SingleProcessLeases();
    this.#leases.onEvent((event) => {
      if (event === 'lost') void this.#stopAll('lease lost').then(() => this.reconcile());
      else void this.reconcile();
    });
  }

  async start(): Promise<void> {
    this.#control = this.bus.subscribe(DEPLOYMENT_CONTROL_SUBJECTS, () => this.reconcile(), {
      maxPending: 16,
    });
    // The detectors' per-camera reports: what this replica's cameras had analysed and dropped.
    this.#reports = this.bus.subscribe(
      allSubjects('counters'),
      (message) => {
        let report: ReturnType<typeof decodeStageCounters>;
        try {
          report = decodeStageCounters(message.data);
        } catch {
          return; // not a report: nothing to count
        }
        if (report.stage !== 'detector') return;
        this.#running.get(report.cameraId)?.supervisor.detectorReport(report.processed, report.dropped);
      },
      { maxPending: 10_000 },
    );
    await this.reconcile();
    this.logger.info({ cameras: this.#running.size }, 'ingest running its share of the cameras');
    this.#timer = setInterval(
      () => void this.reconcile(),
      this.options.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
    );
  }

  /** The supervisor of a running camera (tests and status pages). */
  supervisor(cameraId: string): CameraSupervisor | undefined {
    return this.#running.get(cameraId)?.supervisor;
  }

  get cameraIds(): string[] {
    return [...this.#running.keys()];
  }

  /** Starts cameras that should run and stops those that should not; calls in flight coalesce. */
  reconcile(): Promise<void> {
    if (this.#reconciling) {
      this.#again = true;
      return this.#reconciling;
    }
    this.#reconciling = (async () => {
      try {
        do {
          this.#again = false;
          await this.#reconcileOnce();
        } while (this.#again && !this.#stopped);
      } catch (error) {
        this.logger.error({ err: error }, 'camera reconcile failed; retrying at the next interval');
      } finally {
        this.#reconciling = undefined;
      }
    })();
    return this.#reconciling;
  }

  async #reconcileOnce(): Promise<void> {
    if (this.#stopped) return;
    const wanted = new Map((await this.cameras.listRunningCameras()).map((c) => [c.id, c]));
    // This replica's share: an even split, rounded up, so the replicas together cover every camera.
    const share = Math.ceil(wanted.size / Math.max(1, await this.#leases.replicas()));
    const stops: Promise<void>[] = [];
    for (const [id, entry] of this.#running) {
      const spec = wanted.get(id);
      if (spec && specKey(spec) === entry.key) continue;
      stops.push(this.#stopCamera(id, spec ? 'camera changed; restarting' : 'camera stopped'));
    }
    // A lease lost while the last pass was starting cameras: the camera stops with it.
    for (const id of this.#running.keys()) {
      if (!this.#leases.holds(id)) stops.push(this.#stopCamera(id, 'camera lease lost'));
    }
    // Beyond its share (another replica joined): hand the last cameras over.
    const kept = [...this.#running.keys()].filter((id) => wanted.has(id));
    for (const id of kept.slice(share)) stops.push(this.#stopCamera(id, 'camera handed to another replica'));
    await Promise.all(stops);
    for (const deploymentId of new Set(this.#forgotten)) {
      if (![...wanted.values()].some((c) => c.deploymentId === deploymentId)) {
        this.options.metrics?.forgetDeployment(deploymentId);
      }
    }
    this.#forgotten.length = 0;
    for (const [id, spec] of wanted) {
      if (this.#stopped || this.#running.size >= share) return;
      if (this.#running.has(id) || !(await this.#leases.tryAcquire(id))) continue;
      if (this.#stopped) return;
      let supervisor: CameraSupervisor;
      try {
        supervisor = new CameraSupervisor(spec, this.bus, this.logger, this.options);
      } catch (error) {
        // A row with a URL the API should have refused: skip it, keep every other camera running.
        this.logger.error({ camera: id, err: error }, 'camera refused');
        await this.#leases.release(id);
        continue;
      }
      this.#running.set(id, { key: specKey(spec), supervisor });
      supervisor.start();
    }
  }

  /**
   * Stops one camera and waits for its ffmpeg to exit, then gives its lease back (so another
   * replica opens it only once this one has closed it) and drops its series.
   */
  async #stopCamera(id: string, why: string): Promise<void> {
    const entry = this.#running.get(id);
    if (!entry) return;
    this.#running.delete(id);
    await entry.supervisor.stop();
    this.logger.info({ camera: id }, why);
    await this.#leases.release(id);
    const { deploymentId } = entry.supervisor.camera;
    this.#forgotten.push(deploymentId);
    this.options.metrics?.forgetCamera(deploymentId, id);
  }

  /** Stops every camera (leases lost, or the role stopping). */
  async #stopAll(why: string): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.#stopCamera(id, why)));
  }

  /** Stops every camera (SIGTERM, grace, SIGKILL), gives every lease back, and stops the polling. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#control?.unsubscribe();
    this.#reports?.unsubscribe();
    await this.#reconciling;
    await this.#stopAll('ingest stopping');
    await this.#leases.close();
  }
}
