import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseKey } from './key-file.js';

/** Version 1: no additional data (blobs sealed before images were bound to their rows). */
const UNBOUND_VERSION = 1;
/** Version 2: sealed with the row's context as AES-GCM additional data. */
const BOUND_VERSION = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 4;
const HEADER_BYTES = 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES;
/** File the embedded mode generates when VIGIL_DATA_KEY is unset. */
export const KEY_FILE_NAME = 'vigil-data.key';

export class DecryptionError extends VigilError {
  override readonly name = 'DecryptionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('decryption_failed', message, 500, options);
  }
}

/** First bytes of the key's SHA-256: names the key a blob was sealed with, without revealing it. */
function keyId(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES);
}

/** The context a reference image is sealed under: its subject and content hash (columns of its row). */
export function referenceImageContext(subjectId: string, contentHash: string): string {
  return `reference_image:${subjectId}:${contentHash}`;
}

/** The context an alert's face crop is sealed under: the alert's unique dedupe key (a column of its row). */
export function alertCropContext(dedupeKey: string): string {
  return `alert_crop:${dedupeKey}`;
}

/** The context an alert's scene is sealed under: the alert's unique dedupe key, like its crop. */
export function alertSceneContext(dedupeKey: string): string {
  return `alert_scene:${dedupeKey}`;
}

/**
 * AES-256-GCM for images at rest (reference images, alert crops). A sealed blob is
 * `version | key id | iv | tag | ciphertext`; the key never enters the database. Older keys may be
 * given to decrypt during a rotation. A blob sealed with a `context` (the row it belongs to, as
 * additional authenticated data) opens only with the same context: moved to another subject's or
 * alert's row, it fails to open. Version 1 blobs, sealed before contexts, open without one; a key
 * rotation reseals them bound.
 */
export class DataCipher {
  readonly #key: Buffer;
  readonly #keyId: Buffer;
  readonly #old = new Map<string, Buffer>();

  constructor(key: Buffer, previousKeys: Buffer[] = []) {
    if (key.length !== 32)
      throw new VigilError('invalid_config', 'the data key must be 32 bytes (base64 in VIGIL_DATA_KEY)', 500);
    this.#key = key;
    this.#keyId = keyId(key);
    for (const old of previousKeys) this.#old.set(keyId(old).toString('hex'), old);
  }

  /** Hex id of the current key, for audit entries of a rotation. */
  get keyId(): string {
    return this.#keyId.toString('hex');
  }

  /** Seals `plain`, bound to `context` (see referenceImageContext, alertCropContext) when given. */
  seal(plain: Uint8Array, context?: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    if (context !== undefined) cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const version = context === undefined ? UNBOUND_VERSION : BOUND_VERSION;
    return Buffer.concat([Buffer.from([version]), this.#keyId, iv, cipher.getAuthTag(), body]);
  }

  /** Opens a blob; one sealed with a context needs the same context, or it throws DecryptionError. */
  open(sealed: Uint8Array, context?: string): Buffer {
    const blob = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const version = blob[0];
    if (blob.length < HEADER_BYTES || (version !== UNBOUND_VERSION && version !== BOUND_VERSION))
      throw new DecryptionError('not a sealed blob');
    if (version === BOUND_VERSION && context === undefined)
      throw new DecryptionError('the blob is bound to its row: open it with its context');
    const id = blob.subarray(1, 1 + KEY_ID_BYTES);
    const key = id.equals(this.#keyId) ? this.#key : this.#old.get(id.toString('hex'));
    if (!key) throw new DecryptionError('sealed with an unknown key');
    const iv = blob.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + IV_BYTES);
    const tag = blob.subarray(1 + KEY_ID_BYTES + IV_BYTES, HEADER_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      if (version === BOUND_VERSION) decipher.setAAD(Buffer.from(context ?? '', 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES)), decipher.final()]);
    } catch (error) {
      throw new DecryptionError('the blob was altered, belongs to another row, or the key is wrong', {
        cause: error,
      });
    }
  }

  /**
   * Keys for `purpose` derived from the data key (HMAC-SHA-256), the current key's first, then the
   * previous keys' (during a rotation): subkeys that never reveal the data key itself.
   */
  derivedKeys(purpose: string): Buffer[] {
    return [this.#key, ...this.#old.values()].map((key) =>
      createHmac('sha256', key).update(purpose).digest(),
    );
  }

  /** True when `sealed` was sealed with the current key (rotation skips those). */
  isCurrent(sealed: Uint8Array): boolean {
    return Buffer.from(sealed.subarray(1, 1 + KEY_ID_BYTES)).equals(this.#keyId);
  }

  /** True when `sealed` is bound to a context (version 2). */
  isBound(sealed: Uint8Array): boolean {
    return sealed[0] === BOUND_VERSION;
  }
}

/** Decodes a base64 32-byte key, with a clear error. */
export function parseDataKey(base64: string): Buffer {
  return parseKey(base64, 'VIGIL_DATA_KEY');
}

/**
 * The data key: VIGIL_DATA_KEY when set; otherwise a key file generated in the data dir, with a
 * warning, because a key beside the data it protects protects little against theft of the disk.
 */
export function loadDataCipher(options: {
  dataKey?: string | undefined;
  dataDir: string;
  logger?: Logger;
}): DataCipher {
  if (options.dataKey) return new DataCipher(parseDataKey(options.dataKey));
  const file = path.join(options.dataDir, KEY_FILE_NAME);
  const next = `${file}.next`;
  let key: Buffer;
  if (fs.existsSync(file)) {
    key = parseDataKey(fs.readFileSync(file, 'utf8'));
    // A rotation that stopped between re-encrypting and replacing the key file left the new key
    // here: blobs may be sealed with either, so both must open them.
    if (fs.existsSync(next)) return new DataCipher(key, [parseDataKey(fs.readFileSync(next, 'utf8'))]);
  } else {
    fs.mkdirSync(options.dataDir, { recursive: true });
    key = randomBytes(32);
    fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  options.logger?.warn(
    { keyFile: file },
    'VIGIL_DATA_KEY is unset: images are encrypted with a key file kept beside the data; set VIGIL_DATA_KEY (or keep the key on another device) for real protection',
  );
  return new DataCipher(key);
}

/** The key file of the embedded mode, and where a rotation stages the next key. */
export function keyFilePaths(dataDir: string): { current: string; next: string } {
  const current = path.join(dataDir, KEY_FILE_NAME);
  return { current, next: `${current}.next` };
}
