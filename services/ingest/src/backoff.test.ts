import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

describe('restart backoff', () => {
  it('doubles from the initial delay up to the cap and stays there', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffDelay(100)).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it('waits nothing before the first start and follows a custom policy', () => {
    expect(backoffDelay(0)).toBe(0);
    expect([1, 2, 3].map((n) => backoffDelay(n, { initialMs: 100, maxMs: 250, factor: 3 }))).toEqual([
      100, 250, 250,
    ]);
  });
});
