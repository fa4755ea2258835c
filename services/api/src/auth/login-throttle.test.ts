import { randomBytes } from 'node:crypto';
import { backendName, createTestDatabase, type TestDatabase } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttemptKey, LoginThrottle, type ThrottlePolicy } from './login-throttle.js';
import { LoginThrottleRepository } from './login-throttle.repository.js';

describe(`LoginThrottle over the login_throttle table (${backendName})`, () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase();
  });
  afterAll(async () => testDb?.drop());

  const clock = () => {
    let now = 1_700_000_000_000;
    return {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
  };
  const throttleWith = (policy: ThrottlePolicy, now?: () => number, secret = randomBytes(32)) =>
    new LoginThrottle(new LoginThrottleRepository(testDb.db), { k: policy }, secret, now);
  const fail = async (throttle: LoginThrottle<'k'>, keys: AttemptKey<'k'>[]) => {
    expect(await throttle.begin(keys)).toBe(0);
    await throttle.end(keys, () => 'failed');
  };

  it('lets the free failures through, then waits 1 s, 2 s, 4 s ... up to the longest delay', async () => {
    const time = clock();
    const throttle = throttleWith({ free: 3, maxDelayMs: 10_000 }, time.now);
    const keys = throttle.keys({ k: 'doubling' });
    for (let i = 0; i < 3; i++) await fail(throttle, keys);
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const wait = await throttle.begin(keys);
      waits.push(wait);
      time.advance(wait * 1000);
      await fail(throttle, keys);
    }
    expect(waits).toEqual([1, 2, 4, 8, 10, 10]);
  });

  it('counts attempts in flight, so concurrent ones past the free allowance wait', async () => {
    const throttle = throttleWith({ free: 2, maxDelayMs: 60_000 });
    const keys = throttle.keys({ k: 'in flight' });
    const burst = await Promise.all(Array.from({ length: 10 }, () => throttle.begin(keys)));
    expect(burst.filter((wait) => wait === 0)).toHaveLength(2);
    expect(burst.filter((wait) => wait > 0)).toHaveLength(8);
    await throttle.end(keys, () => 'cleared');
    await throttle.end(keys, () => 'succeeded');
    expect(await throttle.begin(keys)).toBe(0);
  });

  it('forgets a key an hour after its last failure, and deletes its row', async () => {
    const time = clock();
    const throttle = throttleWith({ free: 1, maxDelayMs: 60_000 }, time.now);
    const keys = throttle.keys({ k: 'forgotten' });
    await fail(throttle, keys);
    time.advance(1000);
    await fail(throttle, keys);
    expect(await throttle.begin(keys)).toBeGreaterThan(0);
    time.advance(60 * 60_000 + 1);
    // Another key's failure clears the forgotten rows.
    await fail(throttle, throttle.keys({ k: 'another' }));
    const left = await testDb.db.query('SELECT 1 FROM login_throttle WHERE key_hash = $1', [keys[0]?.hash]);
    expect(left.rows).toHaveLength(0);
    expect(await throttle.begin(keys)).toBe(0);
  });

  it('presumes an attempt lost after a minute in flight, so a crashed process locks nothing', async () => {
    const time = clock();
    const throttle = throttleWith({ free: 1, maxDelayMs: 60_000 }, time.now);
    const keys = throttle.keys({ k: 'lost' });
    await fail(throttle, keys);
    time.advance(1000);
    expect(await throttle.begin(keys)).toBe(0); // never ended: its process "died"
    expect(await throttle.begin(keys)).toBe(1);
    time.advance(60_001);
    expect(await throttle.begin(keys)).toBe(0);
  });

  it('stores keyed hashes only: no account or address, and another deployment key gives other rows', async () => {
    const secret = randomBytes(32);
    const throttle = throttleWith({ free: 5, maxDelayMs: 60_000 }, undefined, secret);
    const keys = throttle.keys({ k: 'admin\n203.0.113.7' });
    const hashOf = (keys: AttemptKey<'k'>[]) => keys[0]?.hash ?? Buffer.alloc(0);
    await fail(throttle, keys);
    const { rows } = await testDb.db.query<{ key_hash: Uint8Array }>('SELECT key_hash FROM login_throttle');
    const stored = rows.map((row) => Buffer.from(row.key_hash));
    expect(stored.some((hash) => hash.equals(hashOf(keys)))).toBe(true);
    expect(stored.some((hash) => hash.includes('admin') || hash.includes('203.0.113.7'))).toBe(false);
    const elsewhere = throttleWith({ free: 5, maxDelayMs: 60_000 }).keys({ k: 'admin\n203.0.113.7' });
    expect(hashOf(elsewhere).equals(hashOf(keys))).toBe(false);
    // The same secret (another replica of the same deployment): the same stored key.
    const replica = throttleWith({ free: 5, maxDelayMs: 60_000 }, undefined, secret);
    expect(hashOf(replica.keys({ k: 'admin\n203.0.113.7' })).equals(hashOf(keys))).toBe(true);
  });
});
