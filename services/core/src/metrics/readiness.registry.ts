import type { Bus } from '../bus/bus.js';
import type { Database } from '../db/database.js';
import { isVigilError } from '../errors.js';

/** How long one check may take before it counts as failed: well under a Kubernetes probe's 1 s default x3. */
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

/** A readiness check resolves when its dependency is usable and throws (or rejects) when it is not. */
export type ReadinessCheck = () => Promise<void> | void;

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Why it failed, as a short code (`timeout`, `unavailable`, `not_loaded` or an error's code); no detail that could leak. */
  error?: string;
  /** Reported, but its failure leaves the process ready (see `add`). */
  advisory?: true;
}

export interface CheckOptions {
  /**
   * Report the check without letting it fail readiness: for the state of other processes (a camera
   * no detector analyses), which taking this one out of its load balancer would not mend.
   */
  advisory?: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  checks: CheckResult[];
}

/** The state of something that becomes ready once (models loading): pending, ready or failed. */
export interface ReadinessGate {
  ready(): void;
  fail(code?: string): void;
  pending(): void;
}

class CheckTimeoutError extends Error {}

/**
 * The checks `/ready` runs: the database answers, the bus is connected, the models are loaded.
 * Any engineer adds a check with `add(name, check)`; the report says which one failed.
 */
export class ReadinessRegistry {
  readonly #checks = new Map<string, { check: ReadinessCheck; advisory: boolean }>();

  constructor(private readonly timeoutMs = DEFAULT_CHECK_TIMEOUT_MS) {}

  /** Adds (or replaces) a named check. */
  add(name: string, check: ReadinessCheck, options: CheckOptions = {}): this {
    this.#checks.set(name, { check, advisory: options.advisory === true });
    return this;
  }

  remove(name: string): void {
    this.#checks.delete(name);
  }

  /** Adds a check that fails until `ready()` is called on the returned gate (e.g. once models are loaded). */
  gate(name: string): ReadinessGate {
    let state: { ok: true } | { ok: false; code: string } = { ok: false, code: 'not_loaded' };
    this.add(name, () => {
      if (!state.ok) throw Object.assign(new Error(`${name} not ready`), { code: state.code });
    });
    return {
      ready: () => {
        state = { ok: true };
      },
      fail: (code = 'failed') => {
        state = { ok: false, code };
      },
      pending: () => {
        state = { ok: false, code: 'not_loaded' };
      },
    };
  }

  get names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Runs every check at once, each bounded by the timeout. */
  async check(): Promise<ReadinessReport> {
    const checks = await Promise.all(
      [...this.#checks].map(async ([name, { check, advisory }]): Promise<CheckResult> => {
        const flag = advisory ? { advisory: true as const } : {};
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(check),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new CheckTimeoutError()), this.timeoutMs);
            }),
          ]);
          return { name, ok: true, ...flag };
        } catch (error) {
          return { name, ok: false, error: failureCode(error), ...flag };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return { ready: checks.every((c) => c.ok || c.advisory), checks };
  }
}

function failureCode(error: unknown): string {
  if (error instanceof CheckTimeoutError) return 'timeout';
  if (isVigilError(error)) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[a-z][a-z0-9_]{0,39}$/.test(code)) return code;
  return 'unavailable';
}

/** Ready when the database answers `SELECT 1`. */
export function databaseCheck(db: Database): ReadinessCheck {
  return async () => {
    await db.query('SELECT 1');
  };
}

/**
 * Ready when the bus is connected: on NATS the connection is open and a PING gets its PONG (a
 * flush); the in-process bus is always connected.
 */
export function busCheck(bus: Bus): ReadinessCheck {
  return async () => {
    const connection = (bus as { connection?: { isClosed(): boolean; isDraining?(): boolean } }).connection;
    if (bus.kind === 'nats' && connection) {
      if (connection.isClosed() || connection.isDraining?.()) {
        throw Object.assign(new Error('NATS connection closed'), { code: 'closed' });
      }
    }
    await bus.flush();
  };
}

/** A registry with the database and bus checks every process needs. */
export function createReadiness(deps: { db?: Database; bus?: Bus; timeoutMs?: number }): ReadinessRegistry {
  const readiness = new ReadinessRegistry(deps.timeoutMs);
  if (deps.db) readiness.add('database', databaseCheck(deps.db));
  if (deps.bus) readiness.add('bus', busCheck(deps.bus));
  return readiness;
}
