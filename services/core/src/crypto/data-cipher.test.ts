import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alertCropContext, DataCipher, loadDataCipher, referenceImageContext } from './data-cipher.js';

describe('DataCipher', () => {
  it('round-trips and never stores the plaintext', () => {
    const cipher = new DataCipher(randomBytes(32));
    const plain = Buffer.from('a face crop, say');
    const sealed = cipher.seal(plain);
    expect(sealed.includes(plain)).toBe(false);
    expect(cipher.open(sealed).equals(plain)).toBe(true);
  });

  it('refuses an altered blob', () => {
    const cipher = new DataCipher(randomBytes(32));
    const sealed = cipher.seal(Buffer.from('x'.repeat(100)));
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    expect(() => cipher.open(sealed)).toThrow(expect.objectContaining({ code: 'decryption_failed' }));
  });

  it("opens a blob bound to its row only with that row's context", () => {
    const cipher = new DataCipher(randomBytes(32));
    const own = referenceImageContext('subject-a', 'hash-1');
    const sealed = cipher.seal(Buffer.from('a face'), own);
    expect(cipher.isBound(sealed)).toBe(true);
    expect(cipher.open(sealed, own).toString()).toBe('a face');
    for (const other of [referenceImageContext('subject-b', 'hash-1'), alertCropContext('k'), undefined])
      expect(() => cipher.open(sealed, other)).toThrow(
        expect.objectContaining({ code: 'decryption_failed' }),
      );
  });

  it('still opens a blob sealed before binding (version 1), whatever context is given', () => {
    const cipher = new DataCipher(randomBytes(32));
    const legacy = cipher.seal(Buffer.from('old face'));
    expect(cipher.isBound(legacy)).toBe(false);
    expect(cipher.open(legacy).toString()).toBe('old face');
    expect(cipher.open(legacy, alertCropContext('k')).toString()).toBe('old face');
  });

  it('opens blobs sealed with a previous key during rotation', () => {
    const oldKey = randomBytes(32);
    const sealed = new DataCipher(oldKey).seal(Buffer.from('old'));
    const rotated = new DataCipher(randomBytes(32), [oldKey]);
    expect(rotated.isCurrent(sealed)).toBe(false);
    expect(rotated.open(sealed).toString()).toBe('old');
  });

  it('generates a key file once in the embedded mode and reuses it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-key-'));
    const a = loadDataCipher({ dataDir: dir });
    const b = loadDataCipher({ dataDir: dir });
    expect(a.keyId).toBe(b.keyId);
    expect(fs.statSync(path.join(dir, 'vigil-data.key')).mode & 0o777).toBe(0o600);
    fs.rmSync(dir, { recursive: true });
  });
});
