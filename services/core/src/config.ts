import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** `10.0.0.0/8`, `fd00::/8` or a single address: true when well-formed. */
export function isAddressOrNetwork(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A comma-separated list of addresses and networks (CIDR), as an array; `extra` names also accepted. */
const addressList = (extra: readonly string[] = []) =>
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .refine((entries) => entries.every((entry) => extra.includes(entry) || isAddressOrNetwork(entry)), {
      message: `a comma-separated list of addresses or networks (10.0.0.0/8)${extra.length > 0 ? ` or ${extra.join(', ')}` : ''}`,
    });

/**
 * Every variable Vigil reads, with its default and why. Unknown `VIGIL_*` variables and bad values
 * stop the start with one message that lists them all.
 */
const fields = z.object({
  /** HTTP port of the API, console and socket.io. */
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Bind address; loopback by default so a van laptop exposes nothing until told to. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Embedded database and encrypted image store. */
  VIGIL_DATA_DIR: z.string().min(1).default('./data'),
  /** postgres://... for PostgreSQL with pgvector; unset for embedded PGlite. */
  DATABASE_URL: z.string().url().optional(),
  /** nats://... (comma-separated for a cluster); unset for the in-process bus. */
  NATS_URL: z.string().min(1).optional(),
  /** NATS credentials file (user JWT + nkey seed) for production clusters. */
  NATS_CREDS: z.string().min(1).optional(),
  /** NATS user and password, where the cluster uses plain accounts. */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  /** CA file that signs the NATS servers' certificates; setting it requires TLS. */
  NATS_CA: z.string().min(1).optional(),
  /** Password of the `admin` user created on first start; generated and printed once if unset. */
  VIGIL_ADMIN_PASSWORD: z.string().min(12).optional(),
  /** base64 32-byte key encrypting reference images and alert crops at rest. */
  VIGIL_DATA_KEY: z.string().min(1).optional(),
  /** base64 32-byte key signing audit checkpoints; unset: a key file generated in the data dir. */
  VIGIL_AUDIT_KEY: z.string().min(1).optional(),
  /** Hours a stopped deployment's watchlist snapshot is kept before destruction. */
  VIGIL_SNAPSHOT_GRACE_HOURS: z.coerce.number().min(0).default(24),
  /**
   * Hours an urgent start may run before the authorising officer's decision; without one by then the
   * deployment stops and its snapshot, alerts and crops are deleted. The EU AI Act (Article 5(3)) allows 24.
   */
  VIGIL_URGENT_DECISION_HOURS: z.coerce.number().positive().max(24).default(24),
  /** Days alerts and their crops are kept. */
  VIGIL_ALERT_RETENTION_DAYS: z.coerce.number().min(0).default(31),
  /**
   * Days the log of each use of a deployment (start, end, snapshot, each alert's input and who
   * verified it; no images) is kept: about six months, long enough for a complaint or an audit.
   */
  VIGIL_USE_LOG_RETENTION_DAYS: z.coerce.number().min(1).default(183),
  /** Minutes between retention runs in the API process (snapshots, alerts, expired subjects). */
  VIGIL_RETENTION_INTERVAL_MINUTES: z.coerce.number().min(1).default(15),
  /**
   * Lowest similarity threshold a deployment may use. Unset: the model profile's floor (for the
   * default profile the threshold at 1 false alert in 100 searches on LFW 1:N; 0.91 for `dlib`,
   * whose different people score 0.8-0.9). See the calibration report for false alerts per threshold.
   */
  VIGIL_THRESHOLD_FLOOR: z.coerce.number().min(-1).max(1).optional(),
  /** Model profile used by the pipeline and enrolment: `default`, `dlib`, `fast`, `insightface` or a path (`accurate`: `dlib`). */
  VIGIL_MODEL_PROFILE: z.string().min(1).default('default'),
  /** Where built and user-supplied ONNX models live. */
  VIGIL_MODELS_DIR: z.string().min(1).optional(),
  /** onnxruntime execution provider: cpu, cuda, ... where the installed build has it. */
  VIGIL_EXECUTION_PROVIDER: z.string().min(1).default('cpu'),
  /** onnxruntime intra-op threads; 1 measured fastest on the shared 2-core machine. */
  VIGIL_ORT_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** Lifetime of a login token. A shift is 8-12 hours. */
  VIGIL_TOKEN_TTL_MINUTES: z.coerce.number().int().min(1).default(720),
  /** Watchlist snapshot size from which the matcher uses the HNSW index instead of exact search. */
  VIGIL_HNSW_MIN_SIZE: z.coerce.number().int().min(1).default(50_000),
  /** Seconds within which the same track and subject raise no second alert. */
  VIGIL_ALERT_COOLDOWN_SECONDS: z.coerce.number().min(0).default(30),
  /** TLS certificate and key (PEM paths); when both are set the API serves HTTPS. */
  VIGIL_TLS_CERT: z.string().min(1).optional(),
  VIGIL_TLS_KEY: z.string().min(1).optional(),
  /** Origins allowed to call the API from a browser, comma-separated; none but the console by default. */
  VIGIL_CORS_ORIGINS: z.string().default(''),
  /**
   * Reverse proxies whose X-Forwarded-For the API believes (addresses, networks, or loopback,
   * linklocal, uniquelocal); unset: none, every client is its socket's address. Never "everyone":
   * a client could then name any address and dodge the login throttle.
   */
  VIGIL_TRUST_PROXY: addressList(['loopback', 'linklocal', 'uniquelocal']).default([]),
  /** Networks cameras may be reached on (CIDR, comma-separated); unset: any address. Redirects are checked too. */
  VIGIL_CAMERA_NETWORKS: addressList().default([]),
  /** CA bundle (PEM) that signs rtsps:// and https:// cameras' certificates; unset: the system's CAs. */
  VIGIL_CAMERA_CA_FILE: z.string().min(1).optional(),
  /** Role of this process when started with `vigil serve` and no --role. */
  VIGIL_ROLE: z.enum(['all', 'ingest', 'detector', 'embedder', 'matcher', 'api']).default('all'),
  /** Run inference in worker threads in the all-in-one process. */
  VIGIL_INFERENCE_THREADS: boolean.default(true),
  /** Scrape token for GET /metrics (Bearer), besides an admin login; unset: admin tokens only (API) or open (ops port). */
  VIGIL_METRICS_TOKEN: z.string().min(16).optional(),
  /** Replicas of the VIGIL_ALERTS JetStream stream: 3 on a 3-node NATS cluster, 1 on a single server. */
  VIGIL_ALERT_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Apply pending migrations on start; false where `vigil migrate` runs them as a separate migration role. */
  VIGIL_MIGRATE: boolean.default(true),
  /** Port of the small /metrics, /health, /ready listener for roles without the API; unset: no listener. */
  VIGIL_OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Durable consumer of the alert stream: API processes sharing a name share the work and fan out. */
  VIGIL_ALERT_CONSUMER: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('vigil-api'),
  /** pino level: fatal, error, warn, info, debug, trace. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Log lines: `text` for a person, `json` for a collector; `auto`: text when stdout is a terminal. */
  VIGIL_LOG_FORMAT: z.enum(['auto', 'text', 'json']).default('auto'),
});

const schema = fields.refine((c) => Boolean(c.VIGIL_TLS_CERT) === Boolean(c.VIGIL_TLS_KEY), {
  message: 'VIGIL_TLS_CERT and VIGIL_TLS_KEY must be set together',
});

export type Config = z.infer<typeof schema> & { dataDir: string };

const KNOWN_KEYS = new Set(Object.keys(fields.shape));

/**
 * Reads the configuration from `env`, failing with one ConfigError that lists every unknown
 * `VIGIL_*` variable and every bad value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (key.startsWith('VIGIL_') && !KNOWN_KEYS.has(key)) problems.push(`${key}: unknown variable`);
  }
  const picked: Record<string, string> = {};
  for (const key of KNOWN_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') picked[key] = value;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || 'config'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.VIGIL_DATA_DIR) };
}
