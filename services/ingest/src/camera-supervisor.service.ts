import fs from 'node:fs/promises';
import {
  allowLabelTokens,
  type Bus,
  isVigilError,
  type Logger,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import { CameraState, encodeCameraStatus, encodeFrame } from '@vigil/proto';
import { AnalysisLedger, type NotAnalysedReason } from './analysis-ledger.js';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { CameraNetworks, cameraFailureReason } from './camera-network.js';
import { type ParsedCameraUrl, parseCameraUrl, redactCameraUrl } from './camera-url.js';
import { buildFfmpegArgs } from './ffmpeg-args.js';
import { type FfmpegProcess, ffmpegHasOption, spawnFfmpeg } from './ffmpeg-process.js';
import { MjpegSplitter } from './mjpeg-splitter.js';

/** One camera as ingest runs it (a row of `cameras` of a running deployment). */
export interface CameraSpec {
  id: string;
  deploymentId: string;
  url: string;
  fps: number;
  realtime: boolean;
  loop: boolean;
}

export interface SupervisorOptions {
  backoff?: BackoffPolicy;
  /**
   * No frame for this long means ffmpeg is stuck (a frozen RTSP session keeps the process alive):
   * restart. 10 s leaves room for an RTSP handshake over a slow link.
   */
  stallMs?: number;
  /** Frames waiting for the publisher beyond which new ones are dropped and counted. */
  queueLimit?: number;
  /** How often the status is published even when nothing changed. */
  statusIntervalMs?: number;
  jpegQuality?: number;
  /** This process's Prometheus registry: frames in and dropped, restarts, online and fps per camera. */
  metrics?: VigilMetrics;
  /** Where frames read and frames never analysed are counted for the statistics (the database). */
  accounting?: FrameAccounting;
  /** The networks cameras may be reached on (VIGIL_CAMERA_NETWORKS); absent: any. */
  cameraNetworks?: CameraNetworks;
  /** CA bundle of rtsps:// and https:// cameras (VIGIL_CAMERA_CA_FILE). */
  cameraCaFile?: string | undefined;
}

/** Counts of one camera's frames for the statistics: read, and never analysed by reason. */
export interface FrameAccounting {
  read(deploymentId: string, cameraId: string, count: number): void;
  notAnalysed(deploymentId: string, cameraId: string, reason: NotAnalysedReason, count: number): void;
}

const RESTART_REASONS: Record<string, string> = {
  ffmpeg_exit: 'ffmpeg_exit',
  ffmpeg_stall: 'stall',
  ffmpeg_spawn: 'spawn_error',
};

/** Frames dropped because the bus refused them (NATS down or reconnecting). */
const PUBLISH_FAILED = 'publish_failed';
allowLabelTokens('reason', PUBLISH_FAILED, 'detector_unavailable');

/**
 * Wait after a refused publish before the next try, doubling while the bus stays down. nats.js
 * retries the server every second and rejects a pending flush at each try, so a 1 s cap resumes
 * frames within about a second of the server coming back.
 */
const PUBLISH_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 1000, factor: 2 };

/** Stall timeout: see {@link SupervisorOptions.stallMs}. */
export const DEFAULT_STALL_MS = 10_000;
/** Half a second of frames at 10 fps: beyond that, fresh frames matter more than old ones. */
export const DEFAULT_QUEUE_LIMIT = 5;
export const DEFAULT_STATUS_INTERVAL_MS = 2000;

export interface CameraStatusSnapshot {
  state: CameraState;
  fps: number;
  framesTotal: number;
  framesDropped: number;
  restarts: number;
  lastErrorCode: string;
  lastFrameAtMs: number;
  /** Frames read and never analysed since start, by reason (see NOT_ANALYSED_REASONS). */
  framesNotAnalysed: Partial<Record<NotAnalysedReason, number>>;
}

/**
 * Runs one camera's ffmpeg under a watchdog (frigate's model): restarts it when it exits or stalls,
 * spaced by exponential backoff; cuts JPEG frames out of its pipe into a bounded queue that a
 * publisher drains onto the bus; reports online/offline, fps, drops and restarts.
 */
export class CameraSupervisor {
  #process: FfmpegProcess | undefined;
  #generation = 0;
  #splitter = new MjpegSplitter();
  #queue: { jpeg: Buffer; capturedAtMs: number }[] = [];
  #publishing = false;
  #stopped = false;
  #failures = 0;
  #publishFailures = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #statusTimer: NodeJS.Timeout | undefined;
  #sequence = 0;
  #framesInWindow = 0;
  #windowStart = Date.now();
  readonly #status: CameraStatusSnapshot = {
    state: CameraState.STARTING,
    fps: 0,
    framesTotal: 0,
    framesDropped: 0,
    restarts: 0,
    lastErrorCode: '',
    lastFrameAtMs: 0,
    framesNotAnalysed: {},
  };
  readonly #ledger = new AnalysisLedger();
  readonly #args: string[];
  readonly #frameSubject: string;
  readonly #statusSubject: string;
  readonly #options: Required<
    Omit<SupervisorOptions, 'metrics' | 'accounting' | 'cameraNetworks' | 'cameraCaFile'>
  >;
  readonly #source: ParsedCameraUrl;
  readonly #networks: CameraNetworks;
  readonly #accounting: FrameAccounting | undefined;
  readonly #metrics: VigilMetrics | undefined;
  readonly #labels: { deployment: string; camera: string };

  constructor(
    readonly camera: CameraSpec,
    private readonly bus: Bus,
    private readonly logger: Logger,
    options: SupervisorOptions = {},
  ) {
    this.#options = {
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      stallMs: options.stallMs ?? DEFAULT_STALL_MS,
      queueLimit: options.queueLimit ?? DEFAULT_QUEUE_LIMIT,
      statusIntervalMs: options.statusIntervalMs ?? DEFAULT_STATUS_INTERVAL_MS,
      jpegQuality: options.jpegQuality ?? 3,
    };
    this.#metrics = options.metrics;
    this.#accounting = options.accounting;
    this.#labels = { deployment: camera.deploymentId, camera: camera.id };
    this.#source = parseCameraUrl(camera.url);
    this.#networks = options.cameraNetworks ?? new CameraNetworks();
    this.#args = buildFfmpegArgs(this.#source, {
      fps: camera.fps,
      realtime: camera.realtime,
      loop: camera.loop,
      jpegQuality: this.#options.jpegQuality,
      caFile: options.cameraCaFile,
      refuseRedirects: this.#networks.restricted,
    });
    this.#frameSubject = subject('frames', camera.deploymentId, camera.id);
    this.#statusSubject = subject('status', camera.deploymentId, camera.id);
  }

  /** The ffmpeg process id now running, if any (tests kill it to prove the watchdog). */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  get status(): Readonly<CameraStatusSnapshot> {
    return { ...this.#status, framesNotAnalysed: { ...this.#status.framesNotAnalysed } };
  }

  /**
   * A detector's report on this camera's frames: those it analysed and those it dropped (counted
   * in its own metrics, so only in this camera's status and statistics here).
   */
  detectorReport(analysed: number, dropped: number): void {
    this.#ledger.reported(analysed, dropped);
    if (dropped > 0) this.#notAnalysed('detector_busy', dropped);
  }

  start(): void {
    this.#statusTimer = setInterval(() => this.#publishStatus(), this.#options.statusIntervalMs);
    this.#statusTimer.unref();
    this.#spawn();
  }

  /** Stops ffmpeg (SIGTERM, grace, SIGKILL), publishes what is queued, reports the camera stopped. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stallTimer);
    clearInterval(this.#statusTimer);
    this.#generation++;
    await this.#process?.stop();
    this.#process = undefined;
    this.#drainQueue();
    this.#setState(CameraState.STOPPED, '');
  }

  #spawn(): void {
    if (this.#stopped) return;
    const generation = ++this.#generation;
    this.#splitter = new MjpegSplitter();
    void this.#preflight().then((refusal) => {
      if (generation !== this.#generation || this.#stopped) return;
      if (refusal) {
        this.logger.warn(
          { camera: this.camera.id, reason: refusal },
          'camera cannot be opened; retrying later',
        );
        this.#fail(generation, refusal);
        return;
      }
      this.#launch(generation);
    });
  }

  /**
   * Why this camera cannot work now, before ffmpeg is started: a missing file, a host that does not
   * resolve or is off the allowed networks, or an ffmpeg too old to verify TLS or refuse redirects.
   */
  async #preflight(): Promise<string | undefined> {
    const source = this.#source;
    if (source.kind === 'file') {
      try {
        await fs.access(source.input.slice('file:'.length), fs.constants.R_OK);
        return undefined;
      } catch {
        return 'file_not_found';
      }
    }
    if (source.protocols.split(',').includes('tls') && !ffmpegHasOption('protocol=tls', 'tls_verify'))
      return 'tls_verify_unsupported';
    if (
      source.kind === 'http' &&
      this.#networks.restricted &&
      !ffmpegHasOption('protocol=http', 'max_redirects')
    )
      return 'redirects_not_refusable';
    try {
      await this.#networks.check(this.camera.url);
      return undefined;
    } catch (error) {
      if (isVigilError(error) && error.code === 'camera_network_not_allowed') return 'network_not_allowed';
      return 'host_unresolved';
    }
  }

  #launch(generation: number): void {
    this.#armStall(generation);
    this.#process = spawnFfmpeg(this.#args, {
      onData: (chunk) => {
        if (generation !== this.#generation) return;
        for (const jpeg of this.#splitter.push(chunk)) this.#onFrame(jpeg, generation);
      },
      onExit: (code, signal, lastError) => {
        if (generation !== this.#generation) return;
        // A file that played to its end without `loop` is done, not broken.
        const ended = code === 0 && !this.camera.loop && parseCameraUrl(this.camera.url).kind === 'file';
        if (ended) {
          clearTimeout(this.#stallTimer);
          this.#process = undefined;
          this.#setState(CameraState.OFFLINE, 'stream_ended');
          return;
        }
        // Why, when ffmpeg said: a refused connection, a certificate, a 401 ... (the status's reason).
        const reason = (code !== 0 && cameraFailureReason(lastError)) || 'ffmpeg_exit';
        this.logger.warn(
          { camera: this.camera.id, deployment: this.camera.deploymentId, code, signal, reason },
          'ffmpeg exited; restarting',
        );
        this.#fail(generation, reason, 'ffmpeg_exit');
      },
      onSpawnError: (error) => {
        if (generation !== this.#generation) return;
        this.logger.error({ camera: this.camera.id, err: error }, 'ffmpeg could not start');
        this.#fail(generation, 'ffmpeg_spawn');
      },
    });
    this.logger.info(
      { camera: this.camera.id, deployment: this.camera.deploymentId, url: redactCameraUrl(this.camera.url) },
      'camera started',
    );
  }

  #fail(generation: number, code: string, restartReason = RESTART_REASONS[code] ?? 'other'): void {
    if (generation !== this.#generation || this.#stopped) return;
    this.#generation++;
    clearTimeout(this.#stallTimer);
    const dying = this.#process;
    this.#process = undefined;
    void dying?.stop(500);
    this.#failures++;
    this.#record((m) => m.cameraRestarts.inc({ ...this.#labels, reason: restartReason }));
    this.#setState(CameraState.OFFLINE, code);
    const delay = backoffDelay(this.#failures, this.#options.backoff);
    this.#restartTimer = setTimeout(() => {
      this.#status.restarts++;
      this.#spawn();
    }, delay);
  }

  #armStall(generation: number): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = setTimeout(() => {
      this.logger.warn({ camera: this.camera.id }, 'no frame from ffmpeg in time; restarting');
      this.#fail(generation, 'ffmpeg_stall');
    }, this.#options.stallMs);
  }

  #onFrame(jpeg: Buffer, generation: number): void {
    const now = Date.now();
    this.#armStall(generation);
    this.#failures = 0;
    this.#status.framesTotal++;
    this.#status.lastFrameAtMs = now;
    this.#framesInWindow++;
    this.#record((m) => m.framesIn.inc(this.#labels));
    this.#count(() => this.#accounting?.read(this.camera.deploymentId, this.camera.id, 1));
    if (this.#status.state !== CameraState.ONLINE) this.#setState(CameraState.ONLINE, '');
    if (this.#queue.length >= this.#options.queueLimit) this.#drop(1, 'queue_full');
    else this.#queue.push({ jpeg, capturedAtMs: now });
    // Whatever happened to the last loop, the next frame starts one: a full queue never stops frames.
    if (!this.#publishing) void this.#publishLoop();
  }

  /**
   * Publishes queued frames; on NATS it waits for each flush, so a slow link fills the queue and drops.
   * A refused publish or flush (server down, reconnecting) drops what is queued, counted, and waits
   * before the next try; the loop ends only when the queue is empty or the camera stops.
   */
  async #publishLoop(): Promise<void> {
    this.#publishing = true;
    try {
      while (this.#queue.length > 0 && !this.#stopped) {
        try {
          this.#publishOne();
          await this.bus.flush();
          this.#ledger.published();
          if (this.#publishFailures > 0) {
            this.logger.info({ camera: this.camera.id }, 'frame publish resumed');
            this.#publishFailures = 0;
          }
        } catch (error) {
          await this.#onPublishFailed(error);
        }
      }
    } finally {
      this.#publishing = false;
    }
  }

  async #onPublishFailed(error: unknown): Promise<void> {
    // The frame in flight may or may not have reached the server; the ones waiting are stale by now.
    this.#drop(1 + this.#queue.length, PUBLISH_FAILED);
    this.#queue.length = 0;
    this.#publishFailures++;
    if (this.#publishFailures === 1) {
      this.logger.warn(
        { camera: this.camera.id, err: error },
        'frame publish failed; dropping frames until the bus is back',
      );
    }
    const delay = backoffDelay(this.#publishFailures, PUBLISH_BACKOFF);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }

  /** Frames this process dropped: in its metrics, its status and the statistics. */
  #drop(count: number, reason: 'queue_full' | 'publish_failed' | 'detector_unavailable'): void {
    if (reason !== 'detector_unavailable') this.#status.framesDropped += count;
    this.#record((m) => m.framesDropped.inc({ ...this.#labels, reason }, count));
    this.#notAnalysed(reason, count);
  }

  #notAnalysed(reason: NotAnalysedReason, count: number): void {
    const counts = this.#status.framesNotAnalysed;
    counts[reason] = (counts[reason] ?? 0) + count;
    this.#count(() => this.#accounting?.notAnalysed(this.camera.deploymentId, this.camera.id, reason, count));
  }

  /** Counting never stops a camera either. */
  #count(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger.warn({ camera: this.camera.id, err: error }, 'frame count failed');
    }
  }

  #drainQueue(): void {
    while (this.#queue.length > 0) {
      this.#publishOne();
      this.#ledger.published();
    }
  }

  #publishOne(): void {
    const next = this.#queue.shift();
    if (!next) return;
    this.bus.publish(
      this.#frameSubject,
      encodeFrame({
        deploymentId: this.camera.deploymentId,
        cameraId: this.camera.id,
        sequence: ++this.#sequence,
        capturedAtMs: next.capturedAtMs,
        jpeg: next.jpeg,
      }),
    );
  }

  /** Records a metric where this camera has a registry (a metric call never throws). */
  #record(fn: (metrics: VigilMetrics) => void): void {
    if (this.#metrics) fn(this.#metrics);
  }

  #setState(state: CameraState, errorCode: string): void {
    const changed = state !== this.#status.state || errorCode !== this.#status.lastErrorCode;
    this.#status.state = state;
    this.#status.lastErrorCode = errorCode;
    if (changed) this.#publishStatus();
  }

  #publishStatus(): void {
    const now = Date.now();
    // Published long enough ago that a detector would have reported it, and none did.
    const unreported = this.#ledger.settle(now);
    if (unreported > 0) this.#drop(unreported, 'detector_unavailable');
    const seconds = (now - this.#windowStart) / 1000;
    if (seconds >= 0.5) {
      this.#status.fps = this.#framesInWindow / seconds;
      this.#framesInWindow = 0;
      this.#windowStart = now;
    }
    if (this.#status.state !== CameraState.ONLINE) this.#status.fps = 0;
    this.#record((m) => {
      m.cameraOnline.set(this.#labels, this.#status.state === CameraState.ONLINE ? 1 : 0);
      m.cameraFps.set(this.#labels, this.#status.fps);
    });
    try {
      this.bus.publish(
        this.#statusSubject,
        encodeCameraStatus({
          deploymentId: this.camera.deploymentId,
          cameraId: this.camera.id,
          ...this.#status,
          reportedAtMs: now,
        }),
      );
    } catch (error) {
      this.logger.warn({ camera: this.camera.id, err: error }, 'status publish failed');
    }
  }
}
