import { hwioToOihw, OnnxGraphBuilder } from './onnx-graph.builder.js';
import { type WeightTensor, weight } from './tfjs-weights.reader.js';

export const RECOGNITION_INPUT_SIZE = 150;
export const EMBEDDING_SIZE = 128;

type Weights = Map<string, WeightTensor>;

/** conv + bias, then the scale layer (x * weights + biases) folded into the conv's weights and bias. */
function convLayer(
  g: OnnxGraphBuilder,
  w: Weights,
  x: string,
  prefix: string,
  options: { stride: number; padding: 'same' | 'valid'; relu: boolean },
): string {
  const filters = hwioToOihw(weight(w, `${prefix}/conv/filters`, 4));
  const bias = weight(w, `${prefix}/conv/bias`, 1).data;
  const scale = weight(w, `${prefix}/scale/weights`, 1).data;
  const shift = weight(w, `${prefix}/scale/biases`, 1).data;
  const channels = filters.dims[0] as number;
  const perChannel = filters.data.length / channels;
  const foldedBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = scale[c] as number;
    for (let k = 0; k < perChannel; k++)
      filters.data[c * perChannel + k] = (filters.data[c * perChannel + k] as number) * s;
    foldedBias[c] = (bias[c] as number) * s + (shift[c] as number);
  }
  const out = g.conv(x, filters, foldedBias, { stride: options.stride, padding: options.padding });
  return options.relu ? g.relu(out) : out;
}

function residual(g: OnnxGraphBuilder, w: Weights, x: string, prefix: string): string {
  let out = convLayer(g, w, x, `${prefix}/conv1`, { stride: 1, padding: 'same', relu: true });
  out = convLayer(g, w, out, `${prefix}/conv2`, { stride: 1, padding: 'same', relu: false });
  return g.relu(g.add(out, x));
}

/**
 * face-api's residualDown: the shortcut is a 2x2 average pool, zero-padded in channels when they
 * double; where the valid 3x3 stride-2 conv comes out one row and column smaller than the pool
 * (8 -> 3 vs 4, 4 -> 1 vs 2), face-api appends a zero row and column to the conv output.
 */
function residualDown(
  g: OnnxGraphBuilder,
  w: Weights,
  x: string,
  prefix: string,
  size: number,
  channelsIn: number,
  channelsOut: number,
): { out: string; size: number } {
  let out = convLayer(g, w, x, `${prefix}/conv1`, { stride: 2, padding: 'valid', relu: true });
  out = convLayer(g, w, out, `${prefix}/conv2`, { stride: 1, padding: 'same', relu: false });
  const convSize = Math.floor((size - 3) / 2) + 1;
  const poolSize = Math.floor((size - 2) / 2) + 1;
  let pooled = g.node('AveragePool', [x], {
    kernel_shape: { ints: [2, 2] },
    strides: { ints: [2, 2] },
    pads: { ints: [0, 0, 0, 0] },
  });
  if (convSize !== poolSize) out = g.pad(out, [0, 0, 0, 0, 0, 0, poolSize - convSize, poolSize - convSize]);
  if (channelsIn !== channelsOut) pooled = g.pad(pooled, [0, 0, 0, 0, 0, channelsOut - channelsIn, 0, 0]);
  return { out: g.relu(g.add(pooled, out)), size: poolSize };
}

/**
 * Converts dlib's ResNet-34 face descriptor, as face-api's FaceRecognitionNet names its weights, to
 * ONNX: input `input` [N,3,150,150] normalised, output `embedding` [N,128] (raw, not L2-normalised).
 * The weights come from face-api's TFJS files (readTfjsWeights) or dlib's own
 * (readDlibFaceRecognitionWeights); `source` says which in the file's doc string.
 */
export function convertFaceRecognition(
  w: Weights,
  source = '@vladmandic/face-api TFJS weights (uint8-quantized)',
): Uint8Array {
  const g = new OnnxGraphBuilder('face_recognition');
  const input = g.input('input', ['N', 3, RECOGNITION_INPUT_SIZE, RECOGNITION_INPUT_SIZE]);
  let out = convLayer(g, w, input, 'conv32_down', { stride: 2, padding: 'valid', relu: true });
  let size = Math.floor((RECOGNITION_INPUT_SIZE - 7) / 2) + 1;
  out = g.node('MaxPool', [out], {
    kernel_shape: { ints: [3, 3] },
    strides: { ints: [2, 2] },
    pads: { ints: [0, 0, 0, 0] },
  });
  size = Math.floor((size - 3) / 2) + 1;
  const stages: [string, number, number][] = [
    ['conv32_1', 32, 32],
    ['conv32_2', 32, 32],
    ['conv32_3', 32, 32],
    ['conv64_down', 32, 64],
    ['conv64_1', 64, 64],
    ['conv64_2', 64, 64],
    ['conv64_3', 64, 64],
    ['conv128_down', 64, 128],
    ['conv128_1', 128, 128],
    ['conv128_2', 128, 128],
    ['conv256_down', 128, 256],
    ['conv256_1', 256, 256],
    ['conv256_2', 256, 256],
    ['conv256_down_out', 256, 256],
  ];
  for (const [prefix, channelsIn, channelsOut] of stages) {
    if (prefix.includes('down')) {
      ({ out, size } = residualDown(g, w, out, prefix, size, channelsIn, channelsOut));
    } else {
      out = residual(g, w, out, prefix);
    }
  }
  out = g.node('ReduceMean', [out], { axes: { ints: [2, 3] }, keepdims: { i: 0 } });
  out = g.dense(out, weight(w, 'fc', 2));
  g.output(out, 'embedding', ['N', EMBEDDING_SIZE]);
  return g.encode(`dlib ResNet-34 face descriptor (face-api FaceRecognitionNet), converted from ${source}`);
}
