/**
 * Failed-login counters per key (an IP address or an unknown username) held in memory: a sliding
 * window of failure times. Known accounts are also locked in the database (users.locked_until), so
 * a restart does not unlock them; this catches spraying across many or unknown usernames.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may now. */
  retryAfter(key: string): number {
    const recent = this.#recent(key);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures]!;
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.now()) / 1000));
  }

  fail(key: string): void {
    const recent = this.#recent(key);
    recent.push(this.now());
    this.#failures.set(key, recent);
    // Bound memory under a spray of distinct keys: forget the oldest key.
    if (this.#failures.size > 100_000) {
      const first = this.#failures.keys().next().value;
      if (first !== undefined) this.#failures.delete(first);
    }
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  #recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const recent = (this.#failures.get(key) ?? []).filter((t) => t > cutoff);
    if (recent.length === 0) this.#failures.delete(key);
    return recent;
  }
}
