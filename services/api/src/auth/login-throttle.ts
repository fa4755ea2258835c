import { createHmac } from 'node:crypto';
import type { AttemptOutcome, LoginThrottleRepository, ThrottledKey } from './login-throttle.repository.js';

/** How failures under one key turn into waits. */
export interface ThrottlePolicy {
  /** Failures allowed before any wait. */
  free: number;
  /** The longest wait, however many failures: a delay, never a lock. */
  maxDelayMs: number;
}

/** The first wait once the free failures are spent; each further failure doubles it. */
const FIRST_DELAY_MS = 1000;
/** A key's failures are forgotten this long after its last one (at least its policy's longest wait). */
const FORGET_AFTER_MS = 60 * 60_000;
/**
 * An attempt still in flight after this long is presumed lost with its process (a password check
 * takes well under a second): it stops holding the key's next attempt back, so a crash never locks.
 */
const IN_FLIGHT_LOST_AFTER_MS = 60_000;
/** Subkey purpose (of the data key) for the keyed hash of throttle keys. */
export const THROTTLE_KEY_PURPOSE = 'vigil login-throttle keys v1';

/** The key of the throttle's keyed hashes, derived from the data key: every API process has the same. */
export function throttleSecret(cipher: { derivedKeys(purpose: string): Buffer[] }): Buffer {
  const [current] = cipher.derivedKeys(THROTTLE_KEY_PURPOSE);
  if (!current) throw new Error('the data cipher derived no key');
  return current;
}

/** One key of an attempt, with its policy's name (`accountAddress`, `address`, `account`). */
export interface AttemptKey<Kind extends string> extends ThrottledKey {
  kind: Kind;
}

/**
 * Failed-login counts per key (an account, an address, or both), kept in the database so every
 * API process sees the same failures and a restart forgets none, with a delay that grows with each
 * failure past the free ones (1 s, 2 s, 4 s, ... up to the policy's longest). An attempt is
 * counted when it begins, before the password is checked: once the free attempts are used, only
 * one attempt at a time is let through, and only after the delay. Keys are stored as HMACs under
 * `secret` (a subkey of the data key, shared by the replicas), so the table names no one.
 */
export class LoginThrottle<Kind extends string> {
  readonly #times: { forgetAfterMs: number; inFlightLostAfterMs: number };

  constructor(
    private readonly repository: LoginThrottleRepository,
    private readonly policies: Record<Kind, ThrottlePolicy>,
    private readonly secret: Buffer,
    /** The clock (tests); unset, the database's, which all API processes share. */
    private readonly now?: () => number,
  ) {
    const longest = Math.max(...Object.values<ThrottlePolicy>(policies).map((policy) => policy.maxDelayMs));
    this.#times = {
      forgetAfterMs: Math.max(FORGET_AFTER_MS, longest),
      inFlightLostAfterMs: IN_FLIGHT_LOST_AFTER_MS,
    };
  }

  /** The stored keys of an attempt: each value (an account, an address) hashed with its kind. */
  keys(values: Partial<Record<Kind, string>>): AttemptKey<Kind>[] {
    return (Object.entries(values) as [Kind, string][]).map(([kind, value]) => ({
      kind,
      hash: createHmac('sha256', this.secret).update(`${kind}\n${value}`, 'utf8').digest(),
      free: this.policies[kind].free,
      firstDelayMs: FIRST_DELAY_MS,
      maxDelayMs: this.policies[kind].maxDelayMs,
    }));
  }

  /** Counts an attempt under all `keys` as begun and returns 0, or returns the seconds to wait (counting nothing). */
  begin(keys: AttemptKey<Kind>[]): Promise<number> {
    return this.repository.admit(keys, this.#at(), this.#times);
  }

  /** Ends an attempt begun with `keys`: a failure adds to each key's count; `cleared` forgets the key's failures. */
  async end(keys: AttemptKey<Kind>[], outcome: (kind: Kind) => AttemptOutcome): Promise<void> {
    const at = this.#at();
    for (const key of keys) await this.repository.end(key, outcome(key.kind), at);
    // Only failures leave rows behind, so the ones who fail pay for clearing the forgotten.
    if (keys.some((key) => outcome(key.kind) === 'failed'))
      await this.repository.purgeForgotten(at, this.#times);
  }

  #at(): Date | null {
    return this.now ? new Date(this.now()) : null;
  }
}
