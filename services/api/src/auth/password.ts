import { hash, verify } from '@node-rs/argon2';
import { WeakPasswordError } from '../errors.js';

/** NIST SP 800-63B: length matters more than composition rules; 12 is the policy floor. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer inputs only cost hashing time (a cheap denial of service). */
export const MAX_PASSWORD_LENGTH = 256;

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
// algorithm 2 is Argon2id (a const enum in @node-rs/argon2's types, unusable under verbatimModuleSyntax).
const ARGON2_OPTIONS = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Throws WeakPasswordError unless `password` meets the policy. */
export function checkPasswordPolicy(password: string, username?: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new WeakPasswordError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new WeakPasswordError(`a password may have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (username && password.toLowerCase().includes(username.toLowerCase()))
    throw new WeakPasswordError('a password may not contain the username');
  if (new Set(password).size < 4)
    throw new WeakPasswordError('a password needs more than 3 distinct characters');
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A hash of a random password, verified against for unknown usernames so timing reveals nothing. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  return dummyHash;
}
