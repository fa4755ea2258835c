import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '@vigil/core';

/** One weight tensor of a TFJS weights manifest, dequantised to float32 (int32 stays int32). */
export interface WeightTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A weights manifest or shard that cannot be read as TFJS weights. */
export class WeightsFormatError extends VigilError {
  override readonly name = 'WeightsFormatError';
  constructor(message: string) {
    super('invalid_weights', message, 500);
  }
}

const BYTES_PER_VALUE = { uint8: 1, uint16: 2, float16: 2, float32: 4, int32: 4 } as const;

function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decode(spec: WeightSpec, bytes: Buffer): WeightTensor {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const q = spec.quantization;
  if (!q) {
    const copy = new Uint8Array(bytes).buffer;
    const data = spec.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    return { shape: spec.shape, dtype: spec.dtype, data };
  }
  const raw: ArrayLike<number> =
    q.dtype === 'uint8' ? new Uint8Array(bytes) : new Uint16Array(new Uint8Array(bytes).buffer, 0, size);
  if (q.dtype === 'float16') {
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = float16ToFloat32(raw[i] as number);
    return { shape: spec.shape, dtype: 'float32', data };
  }
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  // tfjs-core's io.decodeWeights: float32 = q * scale + min (rounded to float32), int32 rounds.
  if (spec.dtype === 'int32') {
    return {
      shape: spec.shape,
      dtype: 'int32',
      data: Int32Array.from(raw, (v) => Math.round(v * scale + min)),
    };
  }
  return { shape: spec.shape, dtype: 'float32', data: Float32Array.from(raw, (v) => v * scale + min) };
}

/** Decodes TFJS weight groups (a weights manifest, or a graph model's `weightsManifest`) from `dir`. */
export function readWeightGroups(groups: WeightGroup[], dir: string): Map<string, WeightTensor> {
  const tensors = new Map<string, WeightTensor>();
  for (const group of groups) {
    const buffer = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const bytes = size * BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype];
      if (offset + bytes > buffer.length) {
        throw new WeightsFormatError(`${dir}: shard ${group.paths[0]} too short for ${spec.name}`);
      }
      tensors.set(spec.name, decode(spec, buffer.subarray(offset, offset + bytes)));
      offset += bytes;
    }
  }
  return tensors;
}

/**
 * Reads a TFJS weights manifest (`NAME-weights_manifest.json`) and its `.bin` shards, as
 * `tf.io.loadWeights` does, and returns every tensor by name, dequantised.
 */
export function readTfjsWeights(manifestPath: string): Map<string, WeightTensor> {
  const groups = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as WeightGroup[];
  return readWeightGroups(groups, path.dirname(manifestPath));
}

/** Returns a float32 weight by name, checking its rank. */
export function weight(weights: Map<string, WeightTensor>, name: string, rank?: number): WeightTensor {
  const tensor = weights.get(name);
  if (!tensor) throw new WeightsFormatError(`weight ${name} missing`);
  if (rank !== undefined && tensor.shape.length !== rank) {
    throw new WeightsFormatError(`weight ${name} has rank ${tensor.shape.length}, expected ${rank}`);
  }
  return tensor;
}
