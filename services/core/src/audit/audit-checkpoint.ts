import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { parseKey, readOrCreateKeyFile } from '../crypto/key-file.js';
import { canonicalJson } from './audit.repository.js';

/** File the server generates when VIGIL_AUDIT_KEY is unset. */
export const AUDIT_KEY_FILE_NAME = 'vigil-audit.key';
const CHECKPOINT_VERSION = 1;

/** Where the chain stood: its newest row, that row's hash, and how many rows lead up to it. */
export interface ChainHead {
  headId: number;
  headHash: string;
  entries: number;
}

/**
 * A chain head signed by the server with a key the database never holds (HMAC-SHA-256 over the
 * canonical JSON of version, head, entries and time). Kept outside the database, a checkpoint
 * shows rows deleted after it was taken, and rows rewritten before it even with every later hash
 * recomputed.
 */
export interface AuditCheckpoint extends ChainHead {
  /** When the server signed it (ISO 8601). */
  at: string;
  /** First bytes of SHA-256 of the key: names the key without revealing it. */
  keyId: string;
  /** Hex HMAC-SHA-256. */
  signature: string;
}

function signedText(head: ChainHead, at: string): string {
  return canonicalJson({
    v: CHECKPOINT_VERSION,
    headId: head.headId,
    headHash: head.headHash,
    entries: head.entries,
    at,
  });
}

/** Signs and checks checkpoints with the audit key. */
export class AuditCheckpointSigner {
  readonly #key: Buffer;
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('the audit key must be 32 bytes');
    this.#key = key;
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  sign(head: ChainHead, at: Date = new Date()): AuditCheckpoint {
    const time = at.toISOString();
    return {
      headId: head.headId,
      headHash: head.headHash,
      entries: head.entries,
      at: time,
      keyId: this.keyId,
      signature: this.#mac(signedText(head, time)),
    };
  }

  /** True when this key signed exactly this checkpoint. */
  isGenuine(checkpoint: AuditCheckpoint): boolean {
    if (checkpoint.keyId !== this.keyId || !/^[0-9a-f]{64}$/.test(checkpoint.signature)) return false;
    const expected = Buffer.from(this.#mac(signedText(checkpoint, checkpoint.at)), 'hex');
    return timingSafeEqual(expected, Buffer.from(checkpoint.signature, 'hex'));
  }

  #mac(text: string): string {
    return createHmac('sha256', this.#key).update(text).digest('hex');
  }
}

/**
 * The audit key: VIGIL_AUDIT_KEY when set, else a key file generated in the data dir. Either way it
 * lives outside the database, so whoever controls only the database cannot sign a checkpoint.
 */
export function loadAuditSigner(options: {
  auditKey?: string | undefined;
  dataDir: string;
}): AuditCheckpointSigner {
  const key = options.auditKey
    ? parseKey(options.auditKey, 'VIGIL_AUDIT_KEY')
    : readOrCreateKeyFile(path.join(options.dataDir, AUDIT_KEY_FILE_NAME), AUDIT_KEY_FILE_NAME);
  return new AuditCheckpointSigner(key);
}
