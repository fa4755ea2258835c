import {
  type Bus,
  type BusSubscription,
  type Config,
  type Database,
  type DataCipher,
  type Logger,
  loadDataCipher,
  type ReadinessRegistry,
  templateKeys,
  type VigilMetrics,
} from '@vigil/core';
import { startDetectorWorker } from '@vigil/detector';
import { startEmbedderWorker } from '@vigil/embedder';
import {
  type CropEmbedder,
  engineAnalyser,
  engineEmbedder,
  FaceEngine,
  type FrameAnalyser,
  InferenceThread,
  LIVE_GATE,
} from '@vigil/face-runtime';
import { CameraNetworks, CameraRepository, IngestService } from '@vigil/ingest';
import {
  AlertScenes,
  DeploymentCounters,
  encodeProbeJpeg,
  MatchedAlertRepository,
  MatcherService,
  SnapshotRepository,
  startMatcherWorker,
} from '@vigil/matcher';
import { forgetStoppedDeployments } from './forget-stopped.js';

export interface PipelineContext {
  config: Config;
  logger: Logger;
  db: Database;
  bus: Bus;
  metrics: VigilMetrics;
  readiness: ReadinessRegistry;
  /** Seals alert crops (the matcher); the system's, shared with the API; loaded here when absent. */
  cipher?: DataCipher;
  /** Which of ingest, detector, embedder, matcher this process runs. */
  roles: { ingest: boolean; detector: boolean; embedder: boolean; matcher: boolean };
  /** Run inference in worker threads (the all-in-one process, VIGIL_INFERENCE_THREADS). */
  threads: boolean;
}

/** How often queue depths and drops go to the metrics registry. */
const QUEUE_METRICS_INTERVAL_MS = 5000;

/** A face runtime that answers as both analyser and embedder, in this thread or a worker thread. */
type Runtime = FrameAnalyser & CropEmbedder & { close(): Promise<void> };

async function loadRuntime(ctx: PipelineContext, stage: 'detect' | 'embed'): Promise<Runtime> {
  const options = FaceEngine.optionsFromConfig(ctx.config);
  const started = Date.now();
  let runtime: Runtime;
  if (ctx.threads) {
    const thread = await InferenceThread.start(options, ctx.logger, () =>
      ctx.metrics.restarts.inc({ stage, reason: 'crash' }),
    );
    runtime = thread;
  } else {
    const engine = await FaceEngine.load(options);
    const analyser = engineAnalyser(engine);
    const embedder = engineEmbedder(engine);
    runtime = {
      cropSize: analyser.cropSize,
      analyse: analyser.analyse,
      modelId: embedder.modelId,
      embed: embedder.embed,
      close: () => engine.dispose(),
    };
  }
  ctx.metrics.modelLoadSeconds.set({ stage }, (Date.now() - started) / 1000);
  return runtime;
}

/**
 * Starts the pipeline roles of this process: ingest (ffmpeg per camera), detector and embedder
 * (inference in worker threads when `threads`), matcher. Returns the stop that drains them in the
 * order a frame flows: no new frames, then every stage finishes what it holds.
 */
export async function startPipeline(ctx: PipelineContext): Promise<() => Promise<void>> {
  const { config, logger, db, bus, metrics, roles } = ctx;
  const stops: (() => Promise<void>)[] = [];
  const queues: { stage: 'frames' | 'faces' | 'embeddings'; subscription: BusSubscription; seen: number }[] =
    [];
  const counters = new DeploymentCounters(db, logger);
  const models = roles.detector || roles.embedder ? ctx.readiness.gate('models') : undefined;

  if (roles.matcher) {
    const cipher =
      ctx.cipher ?? loadDataCipher({ dataKey: config.VIGIL_DATA_KEY, dataDir: config.dataDir, logger });
    const alerts = new MatchedAlertRepository(db);
    const service = new MatcherService(
      {
        snapshots: new SnapshotRepository(db, { templates: templateKeys(cipher) }),
        alerts,
        counters,
        cipher,
        encodeProbe: encodeProbeJpeg,
        logger,
        metrics,
      },
      { hnswMinSize: config.VIGIL_HNSW_MIN_SIZE, cooldownSeconds: config.VIGIL_ALERT_COOLDOWN_SECONDS },
    );
    const scenes = new AlertScenes({ bus, alerts, cipher, logger });
    const worker = startMatcherWorker({ bus, service, logger, metrics, alerts, scenes });
    queues.push({ stage: 'embeddings', subscription: worker.subscription, seen: 0 });
    stops.push(() => worker.stop());
  }
  // Both runtimes load at once (each in its own thread in the all-in-one process).
  const loads = await Promise.allSettled([
    roles.embedder ? loadRuntime(ctx, 'embed') : Promise.resolve(undefined),
    roles.detector ? loadRuntime(ctx, 'detect') : Promise.resolve(undefined),
  ]);
  const failed = loads.find((l) => l.status === 'rejected');
  if (failed) {
    models?.fail('model_unavailable');
    for (const load of loads) if (load.status === 'fulfilled') await load.value?.close().catch(() => {});
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw failed.reason;
  }
  const [embedRuntime, detectRuntime] = loads.map((l) => (l.status === 'fulfilled' ? l.value : undefined));
  if (embedRuntime) {
    const worker = startEmbedderWorker({ bus, embedder: embedRuntime, logger, metrics });
    queues.push({ stage: 'faces', subscription: worker.subscription, seen: 0 });
    stops.push(async () => {
      await worker.stop();
      await embedRuntime.close();
    });
  }
  if (detectRuntime) {
    const worker = startDetectorWorker({
      bus,
      analyser: detectRuntime,
      logger,
      gate: LIVE_GATE,
      metrics,
      onFrame: (deploymentId, cameraId) => counters.add(deploymentId, cameraId, { frames: 1 }),
    });
    queues.push({ stage: 'frames', subscription: worker.subscription, seen: 0 });
    stops.push(async () => {
      await worker.stop();
      await detectRuntime.close();
    });
  }
  models?.ready();
  if (roles.ingest) {
    const ingest = new IngestService(new CameraRepository(db), bus, logger, {
      metrics,
      // Cameras only on the allowed networks, TLS ones verified against this CA (issue #22).
      cameraNetworks: new CameraNetworks(config.VIGIL_CAMERA_NETWORKS),
      cameraCaFile: config.VIGIL_CAMERA_CA_FILE,
      // Frames read and never analysed, by reason: how much of a deployment was watched.
      accounting: {
        read: (deploymentId, cameraId, frames) =>
          counters.add(deploymentId, cameraId, { framesRead: frames }),
        notAnalysed: (deploymentId, cameraId, reason, frames) =>
          counters.addNotAnalysed(deploymentId, cameraId, reason, frames),
      },
    });
    await ingest.start();
    stops.push(() => ingest.stop());
  }
  if (roles.detector || roles.embedder) {
    const stopForgetting = forgetStoppedDeployments(bus, metrics);
    stops.push(async () => stopForgetting());
  }
  // Queue depths and drops of this process's bounded subscriptions, for /metrics.
  const gauges = setInterval(() => {
    for (const queue of queues) {
      metrics.queueDepth.set({ stage: queue.stage }, queue.subscription.pending);
      const dropped = queue.subscription.dropped - queue.seen;
      queue.seen = queue.subscription.dropped;
      if (dropped > 0) metrics.queueDropped.inc({ stage: queue.stage, reason: 'queue_full' }, dropped);
    }
  }, QUEUE_METRICS_INTERVAL_MS);
  gauges.unref();
  return async () => {
    clearInterval(gauges);
    for (const stop of stops.reverse()) {
      await stop().catch((error) => logger.warn({ err: error }, 'pipeline stop failed'));
    }
    await counters.close();
  };
}
