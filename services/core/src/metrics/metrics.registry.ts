import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { assertSafeLabels, type LabelName, type Labels, MetricLabelError } from './label-guard.js';

/**
 * Series one metric may hold before new label sets are refused: a few hundred cameras across a
 * force's deployments fit many times over, while a per-face or per-track id leaking into a label
 * would hit it within minutes instead of growing Prometheus without bound.
 */
export const MAX_SERIES_PER_METRIC = 5_000;

/** Seconds buckets for pipeline stages: a 9 ms YuNet pass to a multi-second stall. */
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds buckets for database statements: exact search on a 10k snapshot is about 3-6 ms. */
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/**
 * Metric calls whose labels the guard refused, per registry: a refused call is counted here and
 * otherwise ignored, so a metric never throws into the frame, face or request that recorded it.
 */
const refusedCalls = new WeakMap<Registry, Counter<never>>();

function refusalsOf(registry: Registry): Counter<never> {
  let counter = refusedCalls.get(registry);
  if (!counter) {
    counter = new Counter({
      name: 'vigil_metric_calls_refused_total',
      help: 'Metric calls ignored because their labels were refused (not an id or a known word, or one series too many)',
      registers: [registry],
    });
    refusedCalls.set(registry, counter);
  }
  return counter;
}

class SeriesGuard<L extends LabelName> {
  readonly #seen = new Set<string>();
  readonly #refused: Counter<never>;
  constructor(
    registry: Registry,
    private readonly metric: string,
    private readonly labelNames: readonly L[],
  ) {
    this.#refused = refusalsOf(registry);
  }

  /** The labels when they pass, else undefined (the call is counted as refused and does nothing). */
  check(labels: Labels<L>): Labels<L> | undefined {
    try {
      return this.#assert(labels);
    } catch (error) {
      if (!(error instanceof MetricLabelError)) throw error;
      this.#refused.inc();
      return undefined;
    }
  }

  /** The labels when they pass; throws MetricLabelError (without the value) when they do not. */
  #assert(labels: Labels<L>): Labels<L> {
    const keys = Object.keys(labels);
    if (keys.length !== this.labelNames.length || this.labelNames.some((name) => !(name in labels))) {
      throw new MetricLabelError(`${this.metric} takes exactly the labels ${this.labelNames.join(', ')}`);
    }
    assertSafeLabels(labels);
    const key = this.labelNames.map((name) => labels[name]).join('\u0000');
    if (!this.#seen.has(key)) {
      if (this.#seen.size >= MAX_SERIES_PER_METRIC) {
        throw new MetricLabelError(`${this.metric} already has ${MAX_SERIES_PER_METRIC} series`);
      }
      this.#seen.add(key);
    }
    return labels;
  }

  forget(match: Partial<Labels<L>>): Labels<L>[] {
    const removed: Labels<L>[] = [];
    for (const key of this.#seen) {
      const values = key.split('\u0000');
      const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]])) as Labels<L>;
      if (Object.entries(match).every(([name, value]) => labels[name as L] === value)) {
        this.#seen.delete(key);
        removed.push(labels);
      }
    }
    return removed;
  }
}

/** A counter whose labels pass the label guard; a call with refused labels is counted and ignored. */
export class GuardedCounter<L extends LabelName> {
  readonly #counter: Counter<L>;
  readonly #guard: SeriesGuard<L>;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    this.#counter = new Counter({ name, help, labelNames, registers: [registry] });
    this.#guard = new SeriesGuard(registry, name, labelNames);
  }
  inc(labels: Labels<L>, value = 1): void {
    const checked = this.#guard.check(labels);
    if (checked) this.#counter.inc(checked, value);
  }
  /** Drops every series whose labels include `match` (a deployment that ended, a camera removed). */
  forget(match: Partial<Labels<L>>): void {
    for (const labels of this.#guard.forget(match)) this.#counter.remove(labels);
  }
}

/** A gauge whose labels pass the label guard; a call with refused labels is counted and ignored. */
export class GuardedGauge<L extends LabelName> {
  readonly #gauge: Gauge<L>;
  readonly #guard: SeriesGuard<L>;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    this.#gauge = new Gauge({ name, help, labelNames, registers: [registry] });
    this.#guard = new SeriesGuard(registry, name, labelNames);
  }
  set(labels: Labels<L>, value: number): void {
    const checked = this.#guard.check(labels);
    if (checked) this.#gauge.set(checked, value);
  }
  inc(labels: Labels<L>, value = 1): void {
    const checked = this.#guard.check(labels);
    if (checked) this.#gauge.inc(checked, value);
  }
  dec(labels: Labels<L>, value = 1): void {
    const checked = this.#guard.check(labels);
    if (checked) this.#gauge.dec(checked, value);
  }
  forget(match: Partial<Labels<L>>): void {
    for (const labels of this.#guard.forget(match)) this.#gauge.remove(labels);
  }
}

/** A histogram of seconds whose labels pass the label guard; a call with refused labels is counted and ignored. */
export class GuardedHistogram<L extends LabelName> {
  readonly #histogram: Histogram<L>;
  readonly #guard: SeriesGuard<L>;
  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[], buckets: number[]) {
    this.#histogram = new Histogram({ name, help, labelNames, buckets, registers: [registry] });
    this.#guard = new SeriesGuard(registry, name, labelNames);
  }
  observe(labels: Labels<L>, seconds: number): void {
    const checked = this.#guard.check(labels);
    if (checked) this.#histogram.observe(checked, seconds);
  }
  /** Starts a timer; the returned function records the elapsed seconds (when the labels passed) and returns them. */
  startTimer(labels: Labels<L>): () => number {
    const checked = this.#guard.check(labels);
    const start = process.hrtime.bigint();
    return () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (checked) this.#histogram.observe(checked, seconds);
      return seconds;
    };
  }
  /** Runs `work` and records how long it took, whether it resolved or threw. */
  async time<T>(labels: Labels<L>, work: () => Promise<T> | T): Promise<T> {
    const stop = this.startTimer(labels);
    try {
      return await work();
    } finally {
      stop();
    }
  }
  forget(match: Partial<Labels<L>>): void {
    for (const labels of this.#guard.forget(match)) this.#histogram.remove(labels);
  }
}

export interface MetricsOptions {
  /** The role of this process; every series carries it as the `role` label. */
  role: 'all' | 'ingest' | 'detector' | 'embedder' | 'matcher' | 'api';
  /** prom-client's process metrics (CPU, memory, event loop lag, start time). Default true. */
  processMetrics?: boolean;
}

/**
 * The Prometheus registry of one Vigil process and every metric the pipeline, the API and the
 * workers record. Labels are limited to deployment and camera ids (UUIDs) and stage, role and
 * reason tokens: see label-guard.ts. A face that matches nothing is only ever counted.
 */
export class VigilMetrics {
  readonly registry = new Registry();
  readonly role: MetricsOptions['role'];

  /** Frames ingest read from a camera. */
  readonly framesIn: GuardedCounter<'deployment' | 'camera'>;
  /** Frames dropped before detection, by reason (queue_full, slow_consumer, stale, decode_error...). */
  readonly framesDropped: GuardedCounter<'deployment' | 'camera' | 'reason'>;
  /** Faces the detector found and processed (tracked, quality-checked). */
  readonly facesProcessed: GuardedCounter<'deployment' | 'camera'>;
  /** Faces refused by the quality gate or the tracker, by reason. */
  readonly facesSkipped: GuardedCounter<'deployment' | 'camera' | 'reason'>;
  /** Embeddings computed. */
  readonly embeddings: GuardedCounter<'deployment' | 'camera'>;
  /** Embeddings searched against the deployment's watchlist snapshot. */
  readonly matchQueries: GuardedCounter<'deployment'>;
  /** Searches whose best subject scored at or above the deployment threshold. */
  readonly matches: GuardedCounter<'deployment'>;
  /** Alerts stored and published (after de-duplication). */
  readonly alerts: GuardedCounter<'deployment' | 'camera'>;
  /** Matches that raised no alert, by reason (cooldown, duplicate). */
  readonly alertsSuppressed: GuardedCounter<'deployment' | 'reason'>;
  /** Seconds per pipeline stage (decode, detect, align, embed, match, store, publish...). */
  readonly stageSeconds: GuardedHistogram<'stage'>;
  /** Messages waiting in this process's bounded queues, per stage or subject kind. */
  readonly queueDepth: GuardedGauge<'stage'>;
  /** Messages dropped by a bounded queue in this process, per stage and reason. */
  readonly queueDropped: GuardedCounter<'stage' | 'reason'>;
  /** Seconds per model inference call (stage detect or embed). */
  readonly modelSeconds: GuardedHistogram<'stage'>;
  /** Seconds a model took to load (stage detect or embed). */
  readonly modelLoadSeconds: GuardedGauge<'stage'>;
  /** Seconds per database statement, by what it was for (match_query, alert_insert...). */
  readonly databaseSeconds: GuardedHistogram<'stage'>;
  /** Restarts of supervised work inside this process (a worker thread, a subscription), by reason. */
  readonly restarts: GuardedCounter<'stage' | 'reason'>;
  /** Restarts of a camera's ffmpeg child, by reason (ffmpeg_exit, stall, spawn_error). */
  readonly cameraRestarts: GuardedCounter<'deployment' | 'camera' | 'reason'>;
  /** 1 when a camera delivers frames, 0 when it is offline. */
  readonly cameraOnline: GuardedGauge<'deployment' | 'camera'>;
  /** Frames per second a camera delivers, as last measured. */
  readonly cameraFps: GuardedGauge<'deployment' | 'camera'>;
  /** Unix time this process started; a change between scrapes is a process restart. */
  readonly processStart: Gauge<never>;

  constructor(options: MetricsOptions) {
    assertSafeLabels({ role: options.role });
    this.role = options.role;
    const r = this.registry;
    r.setDefaultLabels({ role: options.role });
    if (options.processMetrics !== false) {
      collectDefaultMetrics({ register: r });
      dropTotalGauges(r);
    }

    this.framesIn = new GuardedCounter(r, 'vigil_frames_in_total', 'Frames read from a camera', [
      'deployment',
      'camera',
    ]);
    this.framesDropped = new GuardedCounter(
      r,
      'vigil_frames_dropped_total',
      'Frames dropped before detection, by reason',
      ['deployment', 'camera', 'reason'],
    );
    this.facesProcessed = new GuardedCounter(
      r,
      'vigil_faces_processed_total',
      'Faces detected and processed',
      ['deployment', 'camera'],
    );
    this.facesSkipped = new GuardedCounter(
      r,
      'vigil_faces_skipped_total',
      'Faces refused by the quality gate or tracker, by reason',
      ['deployment', 'camera', 'reason'],
    );
    this.embeddings = new GuardedCounter(r, 'vigil_embeddings_total', 'Embeddings computed', [
      'deployment',
      'camera',
    ]);
    this.matchQueries = new GuardedCounter(
      r,
      'vigil_match_queries_total',
      'Embeddings searched against the watchlist snapshot',
      ['deployment'],
    );
    this.matches = new GuardedCounter(r, 'vigil_matches_total', 'Searches at or above the threshold', [
      'deployment',
    ]);
    this.alerts = new GuardedCounter(r, 'vigil_alerts_total', 'Alerts stored and published', [
      'deployment',
      'camera',
    ]);
    this.alertsSuppressed = new GuardedCounter(
      r,
      'vigil_alerts_suppressed_total',
      'Matches that raised no alert, by reason',
      ['deployment', 'reason'],
    );
    this.stageSeconds = new GuardedHistogram(
      r,
      'vigil_stage_duration_seconds',
      'Seconds per pipeline stage',
      ['stage'],
      STAGE_BUCKETS,
    );
    this.queueDepth = new GuardedGauge(r, 'vigil_queue_depth', 'Messages waiting in a bounded queue', [
      'stage',
    ]);
    this.queueDropped = new GuardedCounter(
      r,
      'vigil_queue_dropped_total',
      'Messages dropped by a bounded queue',
      ['stage', 'reason'],
    );
    this.modelSeconds = new GuardedHistogram(
      r,
      'vigil_model_inference_seconds',
      'Seconds per model inference call',
      ['stage'],
      STAGE_BUCKETS,
    );
    this.modelLoadSeconds = new GuardedGauge(r, 'vigil_model_load_seconds', 'Seconds a model took to load', [
      'stage',
    ]);
    this.databaseSeconds = new GuardedHistogram(
      r,
      'vigil_database_query_seconds',
      'Seconds per database statement',
      ['stage'],
      DB_BUCKETS,
    );
    this.restarts = new GuardedCounter(
      r,
      'vigil_restarts_total',
      'Restarts of supervised work in this process',
      ['stage', 'reason'],
    );
    this.cameraRestarts = new GuardedCounter(
      r,
      'vigil_camera_restarts_total',
      "Restarts of a camera's ffmpeg child",
      ['deployment', 'camera', 'reason'],
    );
    this.cameraOnline = new GuardedGauge(r, 'vigil_camera_online', '1 when a camera delivers frames', [
      'deployment',
      'camera',
    ]);
    this.cameraFps = new GuardedGauge(r, 'vigil_camera_fps', 'Frames per second a camera delivers', [
      'deployment',
      'camera',
    ]);
    this.processStart = new Gauge({
      name: 'vigil_process_start_time_seconds',
      help: 'Unix time this Vigil process started',
      registers: [r],
    });
    this.processStart.set(Math.floor(Date.now() / 1000));
  }

  /** Every metric labelled by deployment and camera. */
  get #perCamera(): { forget(match: { deployment: string; camera?: string }): void }[] {
    return [
      this.framesIn,
      this.framesDropped,
      this.facesProcessed,
      this.facesSkipped,
      this.embeddings,
      this.alerts,
      this.cameraRestarts,
      this.cameraOnline,
      this.cameraFps,
    ];
  }

  /** Drops every series of a deployment (called when it stops, so its ids leave the scrape). */
  forgetDeployment(deploymentId: string): void {
    for (const metric of [...this.#perCamera, this.matchQueries, this.matches, this.alertsSuppressed]) {
      metric.forget({ deployment: deploymentId });
    }
  }

  /**
   * Drops every series of one camera (ingest stopped it or handed it to another replica), so a
   * camera this process no longer runs leaves its scrape rather than reading `vigil_camera_online 0`.
   */
  forgetCamera(deploymentId: string, cameraId: string): void {
    for (const metric of this.#perCamera) metric.forget({ deployment: deploymentId, camera: cameraId });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type header for `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * Removes prom-client's default gauges named `*_total` (`nodejs_active_handles_total`,
 * `nodejs_active_requests_total`, `nodejs_active_resources_total`): `_total` means a counter to
 * Prometheus, and `promtool check metrics` refuses a gauge so named. Each is the sum of the per-type
 * gauge kept beside it (`sum(nodejs_active_handles)`).
 */
function dropTotalGauges(registry: Registry): void {
  for (const { name, type } of registry.getMetricsAsArray()) {
    if (String(type) === 'gauge' && name.endsWith('_total')) registry.removeSingleMetric(name);
  }
}

/** A fresh registry for this process (one per process; tests make as many as they like). */
export function createMetrics(options: MetricsOptions): VigilMetrics {
  return new VigilMetrics(options);
}
