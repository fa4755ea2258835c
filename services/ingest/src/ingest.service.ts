import type { Bus, BusSubscription, Logger } from '@vigil/core';
import type { CameraSource } from './camera.repository.js';
import { type CameraSpec, CameraSupervisor, type SupervisorOptions } from './camera-supervisor.service.js';
import { DEPLOYMENT_CONTROL_SUBJECTS } from './control.js';

export interface IngestOptions extends SupervisorOptions {
  /** Poll of the database for cameras to start or stop, besides the control notices. */
  reconcileIntervalMs?: number;
}

/** Every few seconds, so a missed notice (a restarted NATS link) costs little. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 5000;

const specKey = (c: CameraSpec) => JSON.stringify([c.deploymentId, c.url, c.fps, c.realtime, c.loop]);

/**
 * The ingest role: runs one supervised ffmpeg per camera of every running deployment. It
 * reconciles with the database on start, on a timer, and at once on a deployment change notice.
 */
export class IngestService {
  readonly #running = new Map<string, { key: string; supervisor: CameraSupervisor }>();
  #timer: NodeJS.Timeout | undefined;
  #control: BusSubscription | undefined;
  #reconciling: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly cameras: CameraSource,
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly options: IngestOptions = {},
  ) {}

  async start(): Promise<void> {
    this.#control = this.bus.subscribe(DEPLOYMENT_CONTROL_SUBJECTS, () => this.reconcile(), {
      maxPending: 16,
    });
    await this.reconcile();
    this.logger.info({ cameras: this.#running.size }, 'ingest running the cameras of running deployments');
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
    const stops: Promise<void>[] = [];
    for (const [id, entry] of this.#running) {
      const spec = wanted.get(id);
      if (!spec || specKey(spec) !== entry.key) {
        this.#running.delete(id);
        stops.push(entry.supervisor.stop());
        this.logger.info({ camera: id }, 'camera stopped');
      }
    }
    await Promise.all(stops);
    if (this.#stopped) return;
    for (const [id, spec] of wanted) {
      if (this.#running.has(id)) continue;
      let supervisor: CameraSupervisor;
      try {
        supervisor = new CameraSupervisor(spec, this.bus, this.logger, this.options);
      } catch (error) {
        // A row with a URL the API should have refused: skip it, keep every other camera running.
        this.logger.error({ camera: id, err: error }, 'camera refused');
        continue;
      }
      this.#running.set(id, { key: specKey(spec), supervisor });
      supervisor.start();
    }
  }

  /** Stops every camera (SIGTERM, grace, SIGKILL) and the polling. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#control?.unsubscribe();
    await this.#reconciling;
    await Promise.all([...this.#running.values()].map((e) => e.supervisor.stop()));
    this.#running.clear();
  }
}
