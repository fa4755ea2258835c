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
/** Keys held at most; under a spray of distinct keys the oldest is forgotten. */
const MAX_KEYS = 100_000;

interface Entry {
  failures: number;
  lastFailureAt: number;
  /** Attempts whose password check has not finished: counted before the check, so a burst cannot slip through. */
  inFlight: number;
}

/**
 * Failed-login counters per key (an account, an address, or both) held in memory, with a delay
 * that grows with each failure past the free ones (1 s, 2 s, 4 s, ... up to the policy's longest).
 * An attempt is counted when it begins, before the password is checked: once the free attempts
 * are used, only one attempt at a time is let through, and only after the delay.
 */
export class LoginThrottle {
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const entry = this.#entry(key);
    if (!entry || entry.failures + entry.inFlight < this.policy.free) return 0;
    // Past the free attempts, one at a time: the next waits for the outcome of the one in flight.
    if (entry.inFlight > 0) return 1;
    const waitMs = entry.lastFailureAt + this.delayAfter(entry.failures) - this.now();
    return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
  }

  /** The wait after `failures` failures in a row. */
  delayAfter(failures: number): number {
    if (failures < this.policy.free) return 0;
    const doublings = Math.min(failures - this.policy.free, 40);
    return Math.min(FIRST_DELAY_MS * 2 ** doublings, this.policy.maxDelayMs);
  }

  /** Counts an attempt as under way; `end` must follow. */
  begin(key: string): void {
    let entry = this.#entry(key);
    if (!entry) {
      entry = { failures: 0, lastFailureAt: 0, inFlight: 0 };
      this.#entries.set(key, entry);
      if (this.#entries.size > MAX_KEYS) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
    }
    entry.inFlight++;
  }

  /** Ends an attempt: a failure adds to the key's count, a success clears it when `clear`. */
  end(key: string, outcome: 'failed' | 'succeeded' | 'cleared'): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    if (outcome === 'failed') {
      entry.failures++;
      entry.lastFailureAt = this.now();
    } else if (outcome === 'cleared') {
      entry.failures = 0;
    }
    if (entry.failures === 0 && entry.inFlight === 0) this.#entries.delete(key);
  }

  #entry(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    const forgetAfter = Math.max(FORGET_AFTER_MS, this.policy.maxDelayMs);
    if (entry.inFlight === 0 && this.now() - entry.lastFailureAt > forgetAfter) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
