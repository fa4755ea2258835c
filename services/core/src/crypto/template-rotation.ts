import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { VigilError } from '../errors.js';

/** Rotations kept built per process (a few deployments and the store, per model size). */
const CACHED_ROTATIONS = 64;

/**
 * A secret orthogonal rotation of embedding space. Cosine similarity, dot products and distances
 * between two rotated vectors are those of the originals, so pgvector matches rotated probes
 * against rotated templates exactly as before; a rotated template compared with a probe in the
 * clear scores as an unrelated face.
 */
export class TemplateRotation {
  /** Row-major d x d orthonormal matrix. */
  readonly #matrix: Float64Array;

  constructor(
    matrix: Float64Array,
    readonly dims: number,
  ) {
    this.#matrix = matrix;
  }

  /** Q v. */
  apply(vector: ArrayLike<number>): Float32Array {
    const d = this.#check(vector);
    const out = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      let sum = 0;
      const row = i * d;
      for (let j = 0; j < d; j++) sum += (this.#matrix[row + j] ?? 0) * (vector[j] ?? 0);
      out[i] = sum;
    }
    return out;
  }

  /** Q^T v: the vector in the clear again (Q is orthogonal). */
  invert(vector: ArrayLike<number>): Float32Array {
    const d = this.#check(vector);
    const acc = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      const value = vector[i] ?? 0;
      const row = i * d;
      for (let j = 0; j < d; j++) acc[j] = (acc[j] ?? 0) + (this.#matrix[row + j] ?? 0) * value;
    }
    return Float32Array.from(acc);
  }

  #check(vector: ArrayLike<number>): number {
    if (vector.length !== this.dims)
      throw new VigilError(
        'invalid_embedding',
        `expected ${this.dims} dimensions, got ${vector.length}`,
        500,
      );
    return this.dims;
  }
}

/** Uniform doubles in (0, 1) from AES-256-CTR under `seed`: a deterministic stream only the key holder can produce. */
function uniforms(seed: Buffer, count: number): Float64Array {
  const stream = createCipheriv('aes-256-ctr', seed, Buffer.alloc(16)).update(Buffer.alloc(count * 8));
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    // 53 random bits, shifted off zero so the logarithm below is finite.
    const hi = stream.readUInt32BE(i * 8) >>> 5;
    const lo = stream.readUInt32BE(i * 8 + 4) >>> 6;
    out[i] = (hi * 67_108_864 + lo + 0.5) / 9_007_199_254_740_992;
  }
  return out;
}

/**
 * A Haar-random orthogonal matrix from `seed`: Gaussian entries (Box-Muller), rows orthonormalised
 * by modified Gram-Schmidt twice over (enough for float64 at d <= 2048).
 */
export function orthogonalMatrix(seed: Buffer, dims: number): Float64Array {
  const u = uniforms(seed, dims * dims + 1);
  const m = new Float64Array(dims * dims);
  for (let i = 0; i < m.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u[i] ?? 0.5));
    const theta = 2 * Math.PI * (u[i + 1] ?? 0.5);
    m[i] = r * Math.cos(theta);
    if (i + 1 < m.length) m[i + 1] = r * Math.sin(theta);
  }
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < dims; i++) {
      const ri = i * dims;
      for (let k = 0; k < i; k++) {
        const rk = k * dims;
        let dot = 0;
        for (let j = 0; j < dims; j++) dot += (m[ri + j] ?? 0) * (m[rk + j] ?? 0);
        for (let j = 0; j < dims; j++) m[ri + j] = (m[ri + j] ?? 0) - dot * (m[rk + j] ?? 0);
      }
      let norm = 0;
      for (let j = 0; j < dims; j++) norm += (m[ri + j] ?? 0) ** 2;
      norm = Math.sqrt(norm);
      for (let j = 0; j < dims; j++) m[ri + j] = (m[ri + j] ?? 0) / norm;
    }
  }
  return m;
}

/**
 * The template key and what it derives: the enrolment store's rotation, each deployment
 * snapshot's rotation (from a random salt the deployment keeps until its snapshot is destroyed),
 * and keyed content hashes. The key never enters the database: a dump of it holds templates no
 * public model can search, unlinkable between the store and each deployment.
 */
export class TemplateProtector {
  readonly #key: Buffer;
  readonly #rotations = new Map<string, TemplateRotation>();
  /** First bytes of SHA-256 of the key: lets a process see that it holds the key a snapshot was made with. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('the template key must be 32 bytes');
    this.#key = key;
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  /** The rotation of the enrolment store (`embeddings`) for vectors of `dims`. */
  store(dims: number): TemplateRotation {
    return this.#rotation(`store/${dims}`, dims);
  }

  /** The rotation of one deployment's snapshot, from the salt it was frozen with. */
  deployment(salt: Uint8Array, dims: number): TemplateRotation {
    return this.#rotation(`deployment/${Buffer.from(salt).toString('hex')}/${dims}`, dims);
  }

  /** HMAC-SHA-256 of image bytes: a content hash that finds duplicates without being a public fingerprint. */
  contentHash(bytes: Uint8Array): string {
    return createHmac('sha256', this.#key).update('content-hash\0').update(bytes).digest('hex');
  }

  #rotation(label: string, dims: number): TemplateRotation {
    let rotation = this.#rotations.get(label);
    if (!rotation) {
      const seed = createHmac('sha256', this.#key).update(`vigil template rotation v1\0${label}`).digest();
      rotation = new TemplateRotation(orthogonalMatrix(seed, dims), dims);
      if (this.#rotations.size >= CACHED_ROTATIONS) {
        const oldest = this.#rotations.keys().next().value;
        if (oldest !== undefined) this.#rotations.delete(oldest);
      }
      this.#rotations.set(label, rotation);
    }
    return rotation;
  }
}

/** What template keys are derived from the data key(s) for: a new purpose string makes unrelated keys. */
const TEMPLATE_KEY_PURPOSE = 'vigil template key v1';

/**
 * The template keys of this process: the current data key's (new templates and snapshots) and the
 * previous keys' (rows written before a rotation finished). Derived from the data key, so every
 * process that holds VIGIL_DATA_KEY (the API and the matcher) holds them, and the database never does.
 */
export class TemplateKeys {
  readonly current: TemplateProtector;
  readonly #byId = new Map<string, TemplateProtector>();

  constructor(keys: Buffer[]) {
    const [first, ...rest] = keys;
    if (!first) throw new RangeError('at least one template key is needed');
    this.current = new TemplateProtector(first);
    for (const protector of [this.current, ...rest.map((key) => new TemplateProtector(key))])
      this.#byId.set(protector.keyId, protector);
  }

  /** The protector of `keyId`, or undefined when this process does not hold that key. */
  byId(keyId: string): TemplateProtector | undefined {
    return this.#byId.get(keyId);
  }
}

/** The template keys derived from `cipher`'s data keys (current first). */
export function templateKeys(cipher: { derivedKeys(purpose: string): Buffer[] }): TemplateKeys {
  return new TemplateKeys(cipher.derivedKeys(TEMPLATE_KEY_PURPOSE));
}

/** An embedding as the enrolment store keeps it: rotated by the store's rotation, with the key's id. */
export function storedTemplate(
  protector: TemplateProtector | undefined,
  embedding: Float32Array,
): { vector: Float32Array; keyId: string | null } {
  return protector
    ? { vector: protector.store(embedding.length).apply(embedding), keyId: protector.keyId }
    : { vector: embedding, keyId: null };
}

/** A rotated template refers to a key this process does not hold. */
export class TemplateKeyError extends VigilError {
  override readonly name = 'TemplateKeyError';
  constructor(message: string) {
    super('template_key_mismatch', message, 500);
  }
}

function protectorOf(keys: TemplateKeys | undefined, keyId: string): TemplateProtector {
  const protector = keys?.byId(keyId);
  if (!protector)
    throw new TemplateKeyError(
      `templates were rotated with template key ${keyId}, which this process does not hold (every API and matcher process needs the same VIGIL_DATA_KEY)`,
    );
  return protector;
}

/**
 * A store template as a deployment's snapshot keeps it: out of the store's rotation (a row with a
 * key id) and into the deployment's (a salt), both under `keys`. A rotated row whose key is not
 * held throws: copied as if in the clear it would make a snapshot that matches no one.
 */
export function snapshotTemplate(
  keys: TemplateKeys | undefined,
  salt: Uint8Array | null,
  stored: { vector: Float32Array; keyId: string | null },
): Float32Array {
  const dims = stored.vector.length;
  const clear = stored.keyId
    ? protectorOf(keys, stored.keyId).store(dims).invert(stored.vector)
    : stored.vector;
  if (!salt) return clear;
  if (!keys) throw new TemplateKeyError('a salted snapshot needs the template keys');
  return keys.current.deployment(salt, dims).apply(clear);
}

/** A probe as a deployment's snapshot holds templates: rotated with its salt under its key, or as given. */
export function snapshotProbe(
  keys: TemplateKeys | undefined,
  snapshot: { salt: Uint8Array; keyId: string } | null,
  probe: ArrayLike<number>,
): ArrayLike<number> {
  if (!snapshot) return probe;
  return protectorOf(keys, snapshot.keyId).deployment(snapshot.salt, probe.length).apply(probe);
}
