import {
  buildApp,
  createRepositories,
  RetentionService,
  retentionPolicy,
  startRetentionSchedule,
} from '@vigil/api';
import {
  type Bus,
  type Config,
  createLogger,
  createMetrics,
  createReadiness,
  type Database,
  type Logger,
  loadDataCipher,
  openBus,
  openDatabase,
  type ReadinessRegistry,
  startOpsServer,
  type VigilMetrics,
} from '@vigil/core';
import { FaceEngine } from '@vigil/face-runtime';
import type { FastifyInstance } from 'fastify';
import { startPipeline } from './pipeline.js';

export const ROLES = ['all', 'ingest', 'detector', 'embedder', 'matcher', 'api'] as const;
export type Role = (typeof ROLES)[number];

export interface System {
  config: Config;
  logger: Logger;
  db: Database;
  bus: Bus;
  /** This process's Prometheus registry: roles record their counters and timings here. */
  metrics: VigilMetrics;
  /** Checks behind /ready: database and bus; roles add theirs (e.g. `readiness.gate('models')`). */
  readiness: ReadinessRegistry;
  app?: FastifyInstance;
  /** http://host:port the API listens on, when this process serves it. */
  url?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  roles: Role[];
  logger?: Logger;
  /** Where the generated admin password is shown once (default: stdout, never the log). */
  announce?: (line: string, password: string) => void;
}

/**
 * Starts the given roles in this process over one database and one bus; `all` is every role,
 * on the in-process bus unless NATS_URL is set.
 */
export async function startSystem(options: StartOptions): Promise<System> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.LOG_LEVEL, format: config.VIGIL_LOG_FORMAT });
  const has = (role: Role) => options.roles.includes('all') || options.roles.includes(role);
  const db = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    migrate: config.VIGIL_MIGRATE,
  });
  const bus = await openBus({
    natsUrl: config.NATS_URL,
    name: `vigil-${options.roles.join('+')}`,
    credsFile: config.NATS_CREDS,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    caFile: config.NATS_CA,
    alertReplicas: config.VIGIL_ALERT_STREAM_REPLICAS,
    // The alert stream keeps messages no longer than the database keeps alerts.
    alertMaxAgeDays: config.VIGIL_ALERT_RETENTION_DAYS,
  });
  const stops: (() => Promise<void>)[] = [];
  // Loaded once for the API and the matcher, so a missing VIGIL_DATA_KEY is warned about once.
  const cipher =
    has('api') || has('matcher')
      ? loadDataCipher({ dataKey: config.VIGIL_DATA_KEY, dataDir: config.dataDir, logger })
      : undefined;
  const metrics = createMetrics({ role: options.roles.length === 1 ? (options.roles[0] as Role) : 'all' });
  const readiness = createReadiness({ db, bus });
  const system: System = {
    config,
    logger,
    db,
    bus,
    metrics,
    readiness,
    async stop() {
      // Not ready from here on, so load balancers and Kubernetes stop sending work while we drain.
      readiness.add('shutdown', () => {
        throw Object.assign(new Error('shutting down'), { code: 'shutting_down' });
      });
      for (const stop of stops.reverse())
        await stop().catch((error) => logger.warn({ err: error }, 'stop failed'));
      await bus.close().catch(() => {});
      await db.close().catch(() => {});
    },
  };

  if (has('api')) {
    // Enrolment embeds reference photos in this process: one engine, loaded once. Without models
    // the API still serves everything else and enrolment answers 503 engine_unavailable.
    const faceEngine = await FaceEngine.load(FaceEngine.optionsFromConfig(config)).catch((error) => {
      logger.warn({ err: error }, 'face engine not loaded: enrolment is unavailable');
      return undefined;
    });
    if (faceEngine) stops.push(() => faceEngine.dispose());
    const app = await buildApp({
      config,
      db,
      bus,
      logger,
      metrics,
      readiness,
      faceEngine,
      cipher,
      announce: options.announce,
    });
    const address = await app.listen({ port: config.PORT, host: config.HOST });
    system.app = app;
    system.url = address;
    stops.push(() => app.close());
    logger.info({ url: address, database: db.kind, bus: bus.kind }, 'Vigil API listening');
    // Retention on a schedule in every API process; an advisory lock lets one of them work at a time.
    const retention = startRetentionSchedule({
      service: new RetentionService(createRepositories(db), retentionPolicy(config), undefined, bus),
      intervalMs: config.VIGIL_RETENTION_INTERVAL_MINUTES * 60_000,
      logger,
    });
    stops.push(() => retention.stop());
  }
  const pipelineRoles = {
    ingest: has('ingest'),
    detector: has('detector'),
    embedder: has('embedder'),
    matcher: has('matcher'),
  };
  if (Object.values(pipelineRoles).some(Boolean)) {
    // Stopped before the API (stops run in reverse): cameras first, then every stage drains.
    const stopPipeline = await startPipeline({
      config,
      logger,
      db,
      bus,
      metrics,
      readiness,
      cipher,
      roles: pipelineRoles,
      threads: options.roles.includes('all') && config.VIGIL_INFERENCE_THREADS,
    });
    stops.push(stopPipeline);
  }
  if (config.VIGIL_OPS_PORT !== undefined) {
    // Roles without the API answer /metrics, /health and /ready here (Kubernetes probes, Prometheus).
    const ops = await startOpsServer({
      port: config.VIGIL_OPS_PORT,
      host: config.HOST,
      metrics,
      readiness,
      metricsToken: config.VIGIL_METRICS_TOKEN,
    });
    stops.unshift(() => ops.close());
    logger.info({ url: ops.url }, 'Vigil ops listener (metrics, health, ready)');
  }
  return system;
}
