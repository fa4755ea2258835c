import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TemplateProtector } from './template-rotation.js';

function unit(dims: number): Float32Array {
  const v = Float32Array.from({ length: dims }, () => Math.random() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
};

describe('template rotation', () => {
  const protector = new TemplateProtector(randomBytes(32));

  it('keeps every cosine similarity, and inverts', () => {
    for (const dims of [128, 512]) {
      const rotation = protector.store(dims);
      const [a, b] = [unit(dims), unit(dims)];
      const [ra, rb] = [rotation.apply(a), rotation.apply(b)];
      expect(dot(ra, rb)).toBeCloseTo(dot(a, b), 5);
      expect(dot(ra, ra)).toBeCloseTo(1, 5);
      expect(
        Array.from(rotation.invert(ra))
          .map((x, i) => x - (a[i] ?? 0))
          .every((x) => Math.abs(x) < 1e-5),
      ).toBe(true);
      // A rotated template next to the same face in the clear scores like a stranger.
      expect(Math.abs(dot(ra, a))).toBeLessThan(0.35);
    }
  });

  it('gives the store and each deployment salt their own rotation, the same one again for the same key', () => {
    const v = unit(128);
    const store = protector.store(128).apply(v);
    const first = protector.deployment(randomBytes(32), 128).apply(v);
    const second = protector.deployment(randomBytes(32), 128).apply(v);
    for (const [x, y] of [
      [store, first],
      [first, second],
    ] as const)
      expect(Math.abs(dot(x, y))).toBeLessThan(0.35);
    const salt = randomBytes(32);
    expect(protector.deployment(salt, 128).apply(v)).toEqual(protector.deployment(salt, 128).apply(v));
    expect(new TemplateProtector(randomBytes(32)).store(128).apply(v)).not.toEqual(store);
  });

  it('hashes content with the key: not the public SHA-256, stable for the same bytes', () => {
    const bytes = randomBytes(100);
    expect(protector.contentHash(bytes)).toBe(protector.contentHash(bytes));
    expect(protector.contentHash(bytes)).not.toBe(new TemplateProtector(randomBytes(32)).contentHash(bytes));
    expect(protector.contentHash(bytes)).toMatch(/^[0-9a-f]{64}$/);
  });
});
