import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import {
  type Bus,
  type Config,
  createMetrics,
  createReadiness,
  type Database,
  type DataCipher,
  type Logger,
  loadDataCipher,
  type ReadinessRegistry,
  type TemplateKeys,
  templateKeys,
  type VigilMetrics,
} from '@vigil/core';
import { resolveProfile } from '@vigil/face-runtime';
import { CameraNetworks, CameraStatusTracker, type PipelineStage } from '@vigil/ingest';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AuthOptions } from './auth/auth.service.js';
import { createServices } from './composition.js';
import { AUTHORISATION_CHECK_MS, startAuthorisationSchedule } from './deployments/authorisation.service.js';
import type { CameraStatusSource } from './deployments/deployment.service.js';
import { startAuditCheckpoints } from './oversight/audit-trail.service.js';
import { authPlugin } from './plugins/auth.plugin.js';
import { errorHandlerPlugin } from './plugins/error-handler.plugin.js';
import { shapeOpenApiDocument } from './plugins/openapi-document.js';
import { responseHeadersPlugin } from './plugins/response-headers.plugin.js';
import { realtimePlugin } from './realtime/realtime.plugin.js';
import { alertsRoutes } from './routes/alerts.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { authRoutes } from './routes/auth.routes.js';
import { authorisationRoutes } from './routes/authorisations.routes.js';
import { deploymentRoutes } from './routes/deployments.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { importRoutes } from './routes/imports.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';
import { type ModelSettings, modelRoutes } from './routes/model.routes.js';
import { oversightRoutes } from './routes/oversight.routes.js';
import { provenanceRoutes } from './routes/provenance.routes.js';
import { publishedRecordRoutes } from './routes/published-record.routes.js';
import { readyRoutes } from './routes/ready.routes.js';
import { statsRoutes } from './routes/stats.routes.js';
import { subjectHistoryRoutes } from './routes/subject-history.routes.js';
import { usersRoutes } from './routes/users.routes.js';
import { verificationRoutes } from './routes/verification.routes.js';
import { watchlistRoutes } from './routes/watchlists.routes.js';
import type { EnrolmentEngine } from './subjects/enrolment.service.js';

export interface AppDependencies {
  config: Config;
  db: Database;
  bus: Bus;
  logger: Logger;
  /**
   * Where the generated admin password is shown once, on first start. Defaults to stdout: never the
   * log, which may be shipped elsewhere.
   */
  announce?: (line: string, password: string) => void;
  /** This process's Prometheus registry (`GET /metrics`); a fresh one with role api when absent. */
  metrics?: VigilMetrics;
  /** Checks behind `GET /ready`; database and bus checks over `db` and `bus` when absent. */
  readiness?: ReadinessRegistry;
  /**
   * The face engine (@vigil/detector's FaceEngine), loaded once per process. Without it enrolment
   * answers 503 `engine_unavailable`.
   */
  faceEngine?: EnrolmentEngine;
  /** Seals reference images; defaults to `loadDataCipher` from VIGIL_DATA_KEY or the key file. */
  cipher?: DataCipher;
  /** Rotate stored templates; default: derived from the data key (`templateKeys(cipher)`). */
  templates?: TemplateKeys;
  /**
   * Camera status for `GET /deployments/:id/status`; by default a CameraStatusTracker (@vigil/ingest)
   * subscribed to the bus's status subjects for the app's lifetime.
   */
  cameraStatus?: CameraStatusSource;
  /** Embedding model id of new deployments; defaults to the face engine's, else VIGIL_MODEL_PROFILE's. */
  modelId?: string;
  /** Milliseconds between passes of the authorisation schedule (windows' ends, urgent deadlines); tests shorten it. */
  authorisationCheckMs?: number;
  /** Overrides of the login lockout limits (tests). */
  authOptions?: Partial<AuthOptions> & { loginRateLimitPerMinute?: number };
}

/** Where the console's built single-page app lives (services/console/dist). */
export const CONSOLE_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console/dist');

/**
 * The HTTPS server's suites: AEAD only (AES-GCM, ChaCha20-Poly1305), forward-secret key exchange
 * (ECDHE) on TLS 1.2, and TLS 1.3's three AEAD suites. Node's default list would also offer TLS 1.2's
 * CBC suites (e.g. ECDHE-RSA-AES128-SHA), which are open to padding-oracle and Lucky13 attacks.
 */
const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/**
 * How often the audit chain's head is signed: rows deleted from the database later than this after
 * they were written show in `verify`.
 */
const AUDIT_CHECKPOINT_INTERVAL_MS = 10_000;

/** Login attempts per minute from one address before 429, on top of the per-account lockout. */
const LOGIN_RATE_LIMIT_PER_MINUTE = 30;

/** Builds the HTTP API (and serves the console). Listening is the caller's business. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const https =
    config.VIGIL_TLS_CERT && config.VIGIL_TLS_KEY
      ? {
          cert: fs.readFileSync(config.VIGIL_TLS_CERT),
          key: fs.readFileSync(config.VIGIL_TLS_KEY),
          minVersion: 'TLSv1.2' as const,
          ciphers: TLS_CIPHERS,
          honorCipherOrder: true,
        }
      : null;
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as unknown as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // Only the configured proxies' X-Forwarded-For is believed (request.ip, the login throttle's key);
    // with none, every client is its socket's address and the header is ignored.
    trustProxy: config.VIGIL_TRUST_PROXY.length > 0 ? config.VIGIL_TRUST_PROXY : false,
    // Unknown body fields are refused (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  await app.register(errorHandlerPlugin);
  await app.register(responseHeadersPlugin);
  await app.register(fastifyHelmet, {
    // The console is a same-origin SPA: its scripts, styles, socket.io and API calls come from
    // 'self'; alert crops arrive as data: URLs and reference images as blob: URLs.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // 'wasm-unsafe-eval' lets the console compile ffmpeg.wasm (served from 'self', /ffmpeg/) to pull
        // stills out of a video in the browser; it allows WebAssembly compilation only, not eval().
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: https ? { maxAge: 15_552_000, includeSubDomains: true } : false,
  });
  const corsOrigins = config.VIGIL_CORS_ORIGINS.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  await app.register(fastifyCors, {
    // Same-origin only unless origins are listed; never a wildcard with credentials.
    origin: corsOrigins.length > 0 ? corsOrigins : false,
    methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  });
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vigil API',
        version: '1.0.0',
        description: 'Live facial recognition watchlist service',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transformObject: shapeOpenApiDocument,
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());

  const cipher =
    deps.cipher ??
    loadDataCipher({ dataKey: config.VIGIL_DATA_KEY, dataDir: config.dataDir, logger: deps.logger });
  let cameraStatus = deps.cameraStatus;
  if (!cameraStatus) {
    const tracker = new CameraStatusTracker(deps.bus).start();
    app.addHook('onClose', async () => tracker.stop());
    cameraStatus = tracker;
  }
  let modelId = deps.modelId ?? deps.faceEngine?.profile.modelId;
  const model = modelSettings(deps, config);
  const { thresholdFloor } = model;
  const services = createServices({
    config,
    db: deps.db,
    bus: deps.bus,
    logger: deps.logger,
    cipher,
    templates: deps.templates ?? templateKeys(cipher),
    faceEngine: deps.faceEngine,
    cameraStatus,
    cameraNetworks: new CameraNetworks(config.VIGIL_CAMERA_NETWORKS),
    modelId: () => {
      modelId ??= resolveProfile(config.VIGIL_MODEL_PROFILE, { modelsDir: config.VIGIL_MODELS_DIR }).modelId;
      return modelId;
    },
    thresholdFloor,
    profileRates:
      model.modelId && model.falseMatchRates
        ? { model: model.modelId, rates: model.falseMatchRates }
        : undefined,
    auth: { tokenTtlMinutes: config.VIGIL_TOKEN_TTL_MINUTES, ...deps.authOptions },
  });

  const admin = await services.auth.ensureAdmin(config.VIGIL_ADMIN_PASSWORD);
  if (admin.generatedPassword) {
    const announce = deps.announce ?? ((line: string) => process.stdout.write(`${line}\n`));
    announce(
      `Vigil: created user "admin" with password ${admin.generatedPassword} (shown once; change it)`,
      admin.generatedPassword,
    );
  }
  if (admin.created) deps.logger.info({ username: 'admin' }, 'created the admin user');
  await app.register(authPlugin, { auth: services.auth });
  const checkpoints = startAuditCheckpoints({
    auditTrail: services.auditTrail,
    intervalMs: AUDIT_CHECKPOINT_INTERVAL_MS,
    logger: deps.logger,
  });
  app.addHook('onClose', async () => checkpoints.stop());
  await services.imports.recoverInterrupted();
  app.addHook('onClose', async () => services.imports.close());
  // Every API process runs the schedule: each stop locks the deployment's row, so two never both act.
  const schedule = startAuthorisationSchedule({
    service: services.authorisations,
    intervalMs: deps.authorisationCheckMs ?? AUTHORISATION_CHECK_MS,
    logger: deps.logger,
  });
  app.addHook('onClose', async () => schedule.stop());
  // socket.io (/socket.io, namespace /alerts) on this server, and app.alerts for the alert routes.
  await app.register(realtimePlugin, {
    bus: deps.bus,
    alerts: services.alerts,
    feed: services.feed,
    logger: deps.logger,
    consumerName: config.VIGIL_ALERT_CONSUMER,
  });

  await app.register(healthRoutes);
  const metrics = deps.metrics ?? createMetrics({ role: 'api' });
  const readiness = deps.readiness ?? createReadiness({ db: deps.db, bus: deps.bus });
  addPipelineChecks(readiness, cameraStatus);
  await app.register(readyRoutes, { readiness });
  await app.register(metricsRoutes, { metrics, scrapeToken: config.VIGIL_METRICS_TOKEN });
  await app.register(
    async (api) => {
      await api.register(healthRoutes);
      await api.register(readyRoutes, { readiness });
      await api.register(metricsRoutes, { metrics, scrapeToken: config.VIGIL_METRICS_TOKEN });
      await api.register(authRoutes, {
        loginRateLimitPerMinute: deps.authOptions?.loginRateLimitPerMinute ?? LOGIN_RATE_LIMIT_PER_MINUTE,
      });
      await api.register(usersRoutes);
      await api.register(modelRoutes, {
        model,
        latestCalibration: (modelId) => services.calibrations.latestFor(modelId),
      });
      await api.register(fastifyMultipart, { throwFileSizeLimit: true });
      await api.register(watchlistRoutes, { watchlists: services.watchlists, enrolment: services.enrolment });
      await api.register(provenanceRoutes, { approvals: services.approvals });
      await api.register(subjectHistoryRoutes, { history: services.subjectHistory });
      await api.register(deploymentRoutes, { deployments: services.deployments });
      await api.register(authorisationRoutes, { authorisations: services.authorisations });
      await api.register(importRoutes, { imports: services.imports });
      // Oversight (F): statistics, audit trail, retention on demand, threshold changes.
      await api.register(statsRoutes, { stats: services.stats });
      await api.register(auditRoutes, { auditTrail: services.auditTrail });
      await api.register(oversightRoutes, { retention: services.retention, thresholds: services.thresholds });
      await api.register(alertsRoutes);
      // Lawful use (issue 24): two-person verification, the use log, published record, evidence pack.
      await api.register(verificationRoutes, { verification: services.verification });
      await api.register(publishedRecordRoutes, {
        calibrations: services.calibrations,
        records: services.records,
        useLog: services.useLog,
        evidencePacks: services.evidencePacks,
      });
    },
    { prefix: '/api/v1' },
  );

  if (fs.existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: CONSOLE_DIST,
      prefix: '/',
      index: 'index.html',
      wildcard: false,
    });
  }
  return app;
}

/** Used only where neither VIGIL_THRESHOLD_FLOOR nor a built model profile says otherwise. */
const FALLBACK_THRESHOLD_FLOOR = 0.5;

/**
 * The loaded model profile's default threshold and floor (VIGIL_THRESHOLD_FLOOR overrides the floor;
 * the default is raised to the floor so that a new deployment's default is always accepted).
 */
function modelSettings(deps: AppDependencies, config: Config): ModelSettings {
  let profile: ReturnType<typeof resolveProfile> | undefined;
  try {
    profile =
      deps.faceEngine?.profile ??
      resolveProfile(config.VIGIL_MODEL_PROFILE, { modelsDir: config.VIGIL_MODELS_DIR });
  } catch {
    if (config.VIGIL_THRESHOLD_FLOOR === undefined)
      deps.logger.warn(
        'no model profile to take the threshold floor from; using 0.5 until VIGIL_THRESHOLD_FLOOR is set',
      );
  }
  const thresholdFloor =
    config.VIGIL_THRESHOLD_FLOOR ??
    profile?.thresholdFloor ??
    profile?.defaultThreshold ??
    FALLBACK_THRESHOLD_FLOOR;
  return {
    profile: profile?.name ?? null,
    modelId: deps.modelId ?? profile?.modelId ?? null,
    defaultThreshold: Math.max(profile?.defaultThreshold ?? thresholdFloor, thresholdFloor),
    thresholdFloor,
    falseMatchRates: profile?.falseMatchRates ?? null,
  };
}

/** The code each advisory pipeline check of `/ready` fails with: the camera status's `reason`. */
const PIPELINE_REASONS: Record<PipelineStage, string> = { ingest: 'no_status', detector: 'not_analysed' };

/**
 * Adds `/ready`'s advisory `ingest` and `detector` checks: each fails (code `no_status`,
 * `not_analysed`) while a camera misses that stage. Advisory, so the API stays ready: a dead
 * detector elsewhere is not mended by taking the console that shows it out of the load balancer.
 */
function addPipelineChecks(readiness: ReadinessRegistry, cameraStatus: CameraStatusSource): void {
  const missingStages = cameraStatus.missingStages?.bind(cameraStatus);
  if (!missingStages) return;
  for (const stage of ['ingest', 'detector'] as const) {
    readiness.add(
      stage,
      () => {
        if (missingStages()[stage] > 0)
          throw Object.assign(new Error(`cameras miss the ${stage}`), { code: PIPELINE_REASONS[stage] });
      },
      { advisory: true },
    );
  }
}
