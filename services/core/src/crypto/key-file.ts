import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '../errors.js';

/** Decodes a base64 32-byte key; `name` says which setting or file held it. */
export function parseKey(base64: string, name: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== 32)
    throw new VigilError('invalid_config', `${name} must be base64 of exactly 32 bytes`, 500);
  return key;
}

/**
 * The key in `file`, or a new random one written there (mode 0600, never overwriting a file another
 * process created at the same moment). `name` is used in errors.
 */
export function readOrCreateKeyFile(file: string, name: string): Buffer {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return parseKey(fs.readFileSync(file, 'utf8'), name);
}
