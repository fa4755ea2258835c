import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.js';

describe('LoginThrottle', () => {
  const clock = () => {
    let now = 1_000_000;
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };
  const fail = (throttle: LoginThrottle, key: string) => {
    throttle.begin(key);
    throttle.end(key, 'failed');
  };

  it('lets the free failures through, then waits 1 s, 2 s, 4 s ... up to the longest delay', () => {
    const time = clock();
    const throttle = new LoginThrottle({ free: 3, maxDelayMs: 10_000 }, time.now);
    for (let i = 0; i < 3; i++) {
      expect(throttle.retryAfter('k')).toBe(0);
      fail(throttle, 'k');
    }
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const wait = throttle.retryAfter('k');
      waits.push(wait);
      time.advance(wait * 1000);
      expect(throttle.retryAfter('k')).toBe(0);
      fail(throttle, 'k');
    }
    expect(waits).toEqual([1, 2, 4, 8, 10, 10]);
  });

  it('counts attempts in flight, so concurrent ones past the free allowance wait', () => {
    const throttle = new LoginThrottle({ free: 2, maxDelayMs: 60_000 });
    throttle.begin('k');
    throttle.begin('k');
    expect(throttle.retryAfter('k')).toBeGreaterThan(0);
    throttle.end('k', 'cleared');
    throttle.end('k', 'succeeded');
    expect(throttle.retryAfter('k')).toBe(0);
  });

  it('forgets a key an hour after its last failure', () => {
    const time = clock();
    const throttle = new LoginThrottle({ free: 1, maxDelayMs: 60_000 }, time.now);
    fail(throttle, 'k');
    fail(throttle, 'k');
    expect(throttle.retryAfter('k')).toBeGreaterThan(0);
    time.advance(60 * 60_000 + 1);
    expect(throttle.retryAfter('k')).toBe(0);
  });
});
