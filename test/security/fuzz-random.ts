/**
 * Seeded randomness for the fuzz tests: every test prints its seed in its name, and
 * `VIGIL_FUZZ_SEED=<n>` replays a failing run exactly.
 */
export const FUZZ_SEED = Number(process.env.VIGIL_FUZZ_SEED ?? 20261123);

/** A small, fast, seeded PRNG (mulberry32) with the helpers the fuzzers share. */
export class FuzzRandom {
  #state: number;

  constructor(seed: number = FUZZ_SEED) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** A copy of `input` with one structural mutation: bit flips, byte sets, cuts, splices, repeats. */
  mutate(input: Uint8Array): Uint8Array {
    const out = Uint8Array.from(input);
    switch (this.int(0, 5)) {
      case 0: {
        const flips = this.int(1, 16);
        for (let i = 0; i < flips && out.length > 0; i++) {
          const at = this.int(0, out.length - 1);
          out[at] = (out[at] as number) ^ (1 << this.int(0, 7));
        }
        return out;
      }
      case 1: {
        const sets = this.int(1, 8);
        for (let i = 0; i < sets && out.length > 0; i++)
          out[this.int(0, out.length - 1)] = this.pick([0, 0xff, 0x7f, 0x80, this.int(0, 255)]);
        return out;
      }
      case 2:
        return out.slice(0, this.int(0, out.length));
      case 3: {
        const at = this.int(0, out.length);
        return concat(out.slice(0, at), this.bytes(this.int(1, 64)), out.slice(at));
      }
      case 4: {
        const from = this.int(0, out.length);
        const to = Math.min(out.length, from + this.int(1, 256));
        return concat(out, out.slice(from, to));
      }
      default: {
        const a = this.int(0, out.length);
        const b = this.int(0, out.length);
        return concat(out.slice(0, Math.min(a, b)), out.slice(Math.max(a, b)));
      }
    }
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Rejects when `promise` takes longer than `ms`: a fuzz case that hangs fails the test. */
export async function withinTime<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`hang: ${what} took over ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
