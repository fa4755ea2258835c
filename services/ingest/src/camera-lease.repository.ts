import type { Database, Logger, Queryable } from '@vigil/core';
import type { CameraLeases, LeaseEvent } from './camera-leases.js';
import { CameraLeaseLostError } from './ingest.errors.js';

/**
 * Advisory lock keys (the two-int4 form, a space apart from the one-bigint locks of migrations, the
 * audit log and the matcher): class `VIGI` with `hashtext(camera id)` for a camera's lease, the next
 * class with key 0, taken shared, for membership of the replica set.
 */
export const CAMERA_LOCK_CLASS = 0x56494749;
export const REPLICA_LOCK_CLASS = CAMERA_LOCK_CLASS + 1;

/** How often a replica renews (one query on its lease connection) and counts the replicas. */
export const LEASE_HEARTBEAT_MS = 2000;
/**
 * A replica whose last renewal is older than this stops its cameras: 5 s is under the 10 s after
 * which PostgreSQL drops a silent connection (below), so it stops before another replica can start.
 */
export const LEASE_TTL_MS = 5000;
/**
 * TCP keepalives PostgreSQL sends on the lease connection: first after 4 s of silence, then every
 * 2 s; after 3 unanswered the server ends the session and its locks go. A replica whose host or
 * network vanished loses its cameras about 10 s after its last word.
 */
const SERVER_KEEPALIVE = {
  tcp_keepalives_idle: '4',
  tcp_keepalives_interval: '2',
  tcp_keepalives_count: '3',
};

/** How long `close` waits for the locks to be given back before leaving it to the server. */
const CLOSE_TIMEOUT_MS = 2000;

const COUNT_REPLICAS = `SELECT count(*)::int AS n FROM pg_locks
   WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = 0 AND objsubid = 2
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

interface Session {
  query: Queryable['query'];
  /** Lets the session's connection go back to the pool (after unlocking everything). */
  end(): Promise<void>;
}

export interface AdvisoryLockLeaseOptions {
  heartbeatMs?: number;
  ttlMs?: number;
}

/**
 * Camera leases as PostgreSQL session advisory locks on one connection this replica keeps: the
 * locks live as long as that connection, so a replica that exits or vanishes frees its cameras
 * without anyone renewing or expiring rows. Needs no table and no grant beyond CONNECT.
 */
export class AdvisoryLockLeases implements CameraLeases {
  readonly #held = new Set<string>();
  readonly #listeners: ((event: LeaseEvent) => void)[] = [];
  readonly #heartbeatMs: number;
  readonly #ttlMs: number;
  #session: Promise<Session> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #renewing = false;
  #renewedAt = 0;
  #replicas = 0;
  #closed = false;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    options: AdvisoryLockLeaseOptions = {},
  ) {
    this.#heartbeatMs = options.heartbeatMs ?? LEASE_HEARTBEAT_MS;
    this.#ttlMs = options.ttlMs ?? LEASE_TTL_MS;
  }

  async replicas(): Promise<number> {
    if (this.#closed) throw new CameraLeaseLostError('closed');
    const opening = this.#open();
    const { rows } = await (await opening).query<{ n: number }>(COUNT_REPLICAS, [REPLICA_LOCK_CLASS]);
    const count = rows[0]?.n ?? 0;
    // Lost while the count was on its way: the answer renews nothing.
    if (this.#session !== opening) throw new CameraLeaseLostError('lease_expired');
    this.#renewedAt = Date.now();
    const changed = this.#replicas !== 0 && count !== this.#replicas;
    this.#replicas = count;
    if (changed) this.#emit('changed');
    return count;
  }

  async tryAcquire(cameraId: string): Promise<boolean> {
    if (this.#held.has(cameraId)) return true;
    const session = await this.#open();
    const { rows } = await session.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      [CAMERA_LOCK_CLASS, cameraId],
    );
    const ok = rows[0]?.ok === true;
    if (ok) this.#held.add(cameraId);
    return ok;
  }

  holds(cameraId: string): boolean {
    return this.#held.has(cameraId);
  }

  async release(cameraId: string): Promise<void> {
    if (!this.#held.delete(cameraId) || !this.#session) return;
    try {
      const session = await this.#session;
      await session.query('SELECT pg_advisory_unlock($1, hashtext($2))', [CAMERA_LOCK_CLASS, cameraId]);
    } catch (error) {
      this.#lose(error);
    }
  }

  onEvent(listener: (event: LeaseEvent) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#held.clear();
    const session = this.#session;
    this.#session = undefined;
    // A connection that no longer answers must not hold up the stop; the server ends it (keepalives).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      session?.then((s) => s.end()).catch(() => {}),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /**
   * One pooled connection for as long as this replica runs. `Database` lends a connection only
   * through `transaction`, so the session ends that transaction block at once: advisory locks taken
   * at session level outlive it, and the connection does not sit "idle in transaction" (which
   * monitoring flags and `idle_in_transaction_session_timeout` would end). `transaction`'s own
   * COMMIT at the end then only draws a "no transaction in progress" warning.
   */
  #open(): Promise<Session> {
    if (this.#session) return this.#session;
    const opening = new Promise<Session>((resolve, reject) => {
      let opened = false;
      let finish: () => void = () => {};
      const finished = new Promise<void>((r) => {
        finish = r;
      });
      const done = this.db.transaction(async (tx) => {
        await tx.query('COMMIT');
        for (const [name, value] of Object.entries(SERVER_KEEPALIVE)) {
          await tx.query('SELECT set_config($1, $2, false)', [name, value]);
        }
        await tx.query('SELECT pg_advisory_lock_shared($1, 0)', [REPLICA_LOCK_CLASS]);
        opened = true;
        resolve({
          query: (sql, params) => tx.query(sql, params),
          end: async () => {
            finish();
            await done.catch(() => {});
          },
        });
        await finished;
        await tx.query('SELECT pg_advisory_unlock_all()');
      });
      done.catch((error) => {
        if (!opened) reject(error);
        else if (this.#session === opening) this.#lose(error);
      });
    });
    this.#session = opening;
    opening.then(
      () => this.#startHeartbeat(),
      () => {
        if (this.#session === opening) this.#session = undefined;
      },
    );
    return opening;
  }

  #startHeartbeat(): void {
    if (this.#heartbeat || this.#closed) return;
    this.#renewedAt = Date.now();
    this.#heartbeat = setInterval(() => void this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  async #beat(): Promise<void> {
    if (!this.#session) return;
    if (Date.now() - this.#renewedAt > this.#ttlMs) {
      this.#lose(new CameraLeaseLostError('lease_expired'));
      return;
    }
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      await this.replicas();
    } catch (error) {
      this.#lose(error);
    } finally {
      this.#renewing = false;
    }
  }

  /** Every lease is gone or can no longer be trusted: drop the session and tell the ingest role. */
  #lose(error: unknown): void {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    this.#held.clear();
    this.#replicas = 0;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    void session.then((s) => s.end()).catch(() => {});
    this.logger.warn({ err: error }, 'camera leases lost; stopping this replica’s cameras');
    this.#emit('lost');
  }

  #emit(event: LeaseEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
