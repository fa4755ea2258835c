import type { Database, Queryable } from '@vigil/core';

/** One throttled key (an HMAC, never the account or address itself) and the rules that apply to it. */
export interface ThrottledKey {
  hash: Buffer;
  /** Failures allowed before any wait. */
  free: number;
  /** The first wait once the free failures are spent; each further failure doubles it. */
  firstDelayMs: number;
  /** The longest wait, however many failures. */
  maxDelayMs: number;
}

/** How long counts last: both apply to every key. */
export interface ThrottleTimes {
  /** A key with nothing in flight is forgotten this long after its last failure. */
  forgetAfterMs: number;
  /** An attempt in flight this long is presumed lost (its process died), so it holds nothing back. */
  inFlightLostAfterMs: number;
}

/** What ends an attempt: a failure counts; a success leaves the count or clears it. */
export type AttemptOutcome = 'failed' | 'succeeded' | 'cleared';

/** A clock reading as a parameter; null leaves the database's clock. */
const iso = (at: Date | null) => at?.toISOString() ?? null;

/** Refuses a whole admission: rolls back the keys already counted in its transaction. */
class Refused extends Error {}

/** The clock in parameter `$n`: the caller's (tests) or, when null, the database's, which every API process shares. */
const now = (n: number) => `COALESCE($${n}::timestamptz, now())`;
/** `ms` (a parameter) milliseconds before the clock in `$clock`. */
const before = (clock: number, ms: number) => `${now(clock)} - $${ms}::float8 * interval '1 millisecond'`;
/** The in-flight count of row `t`, leaving out attempts presumed lost (begun before `$lostAfter` ms ago). */
const liveInFlight = (clock: number, lostAfter: number) =>
  `(CASE WHEN t.began_at > ${before(clock, lostAfter)} THEN t.in_flight ELSE 0 END)`;

/**
 * The `login_throttle` table: failed-login counts shared by every API process, each increment one
 * atomic statement so concurrent attempts on any replica are all counted.
 */
export class LoginThrottleRepository {
  constructor(private readonly db: Database) {}

  /**
   * Counts an attempt as begun under every key, or under none: returns 0 when it may go ahead, or
   * the seconds to wait. A key admits while its failures and attempts in flight are under its free
   * ones; past them, one attempt at a time and only once its wait is over. The keys are locked in
   * one order, so two attempts sharing keys cannot deadlock.
   */
  async admit(keys: ThrottledKey[], at: Date | null, times: ThrottleTimes): Promise<number> {
    const sorted = [...keys].sort((a, b) => Buffer.compare(a.hash, b.hash));
    try {
      await this.db.transaction(async (tx) => {
        for (const key of sorted) if (!(await this.#admitOne(tx, key, at, times))) throw new Refused();
      });
      return 0;
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
    }
    return Math.max(1, await this.#secondsToWait(keys, at, times));
  }

  async #admitOne(tx: Queryable, key: ThrottledKey, at: Date | null, times: ThrottleTimes): Promise<boolean> {
    const live = liveInFlight(2, 5);
    const forgotten = `(${live} = 0 AND t.last_failure_at <= ${before(2, 4)})`;
    const { rows } = await tx.query(
      `INSERT INTO login_throttle AS t (key_hash, failures, in_flight, began_at, last_failure_at, wait_until)
       VALUES ($1, 0, 1, ${now(2)}, ${now(2)}, ${now(2)})
       ON CONFLICT (key_hash) DO UPDATE SET
         failures = CASE WHEN ${forgotten} THEN 0 ELSE t.failures END,
         in_flight = ${live} + 1,
         began_at = EXCLUDED.began_at
       WHERE ${forgotten} OR t.failures + ${live} < $3 OR (${live} = 0 AND t.wait_until <= ${now(2)})
       RETURNING 1 AS admitted`,
      [key.hash, iso(at), key.free, times.forgetAfterMs, times.inFlightLostAfterMs],
    );
    return rows.length > 0;
  }

  /** The longest wait among `keys` now; an attempt in flight past the free ones holds the next for a second. */
  async #secondsToWait(keys: ThrottledKey[], at: Date | null, times: ThrottleTimes): Promise<number> {
    let wait = 0;
    const live = liveInFlight(2, 4);
    for (const key of keys) {
      const { rows } = await this.db.query<{ seconds: number | string | null }>(
        `SELECT CASE WHEN ${live} > 0 AND t.failures + ${live} >= $3 THEN 1
                ELSE ceil(extract(epoch FROM t.wait_until - ${now(2)})) END AS seconds
         FROM login_throttle t WHERE t.key_hash = $1`,
        [key.hash, iso(at), key.free, times.inFlightLostAfterMs],
      );
      wait = Math.max(wait, Number(rows[0]?.seconds ?? 0));
    }
    return wait;
  }

  /**
   * Ends an attempt under `key`: a failure adds to its count and sets its next wait (the first delay,
   * doubled for each failure past the free ones, up to the longest); `cleared` forgets its failures;
   * `succeeded` changes neither. A key left with no failures and nothing in flight is deleted.
   */
  async end(key: ThrottledKey, outcome: AttemptOutcome, at: Date | null): Promise<void> {
    if (outcome === 'failed')
      await this.db.query(
        `UPDATE login_throttle t SET
           in_flight = GREATEST(t.in_flight - 1, 0),
           failures = t.failures + 1,
           last_failure_at = ${now(2)},
           wait_until = ${now(2)} + CASE WHEN t.failures + 1 < $3 THEN 0
             ELSE LEAST($4::float8 * power(2, LEAST(t.failures + 1 - $3, 40)), $5::float8) END
             * interval '1 millisecond'
         WHERE t.key_hash = $1`,
        [key.hash, iso(at), key.free, key.firstDelayMs, key.maxDelayMs],
      );
    else
      await this.db.query(
        `UPDATE login_throttle t SET
           in_flight = GREATEST(t.in_flight - 1, 0),
           failures = CASE WHEN $3 THEN 0 ELSE t.failures END,
           wait_until = CASE WHEN $3 THEN ${now(2)} ELSE t.wait_until END
         WHERE t.key_hash = $1`,
        [key.hash, iso(at), outcome === 'cleared'],
      );
    await this.db.query('DELETE FROM login_throttle WHERE key_hash = $1 AND failures = 0 AND in_flight = 0', [
      key.hash,
    ]);
  }

  /** Deletes the keys forgotten by now (nothing live in flight, last failure longer ago than `forgetAfterMs`). */
  async purgeForgotten(at: Date | null, times: ThrottleTimes): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM login_throttle t
       WHERE t.last_failure_at <= ${before(1, 2)} AND (t.in_flight = 0 OR t.began_at <= ${before(1, 3)})`,
      [iso(at), times.forgetAfterMs, times.inFlightLostAfterMs],
    );
    return rowCount;
  }
}
