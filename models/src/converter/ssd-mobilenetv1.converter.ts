import { depthwiseToOihw, hwioToOihw, OnnxGraphBuilder } from './onnx-graph.builder.js';
import { type WeightTensor, weight } from './tfjs-weights.reader.js';

/** face-api's mobileNetV1 batch-norm epsilon (the float32 of 0.001). */
const BATCH_NORM_EPSILON = 0.0010000000474974513;
/** Depthwise layers of MobileNetV1 that stride 2 (face-api's getStridesForLayerIdx). */
const STRIDE_2_LAYERS = new Set([2, 4, 6, 12]);
/** Anchors the SSD head predicts over its six feature maps (32x32x3 + 16x16x6 + ... + 1x1x6). */
export const SSD_ANCHORS = 5118;
export const SSD_INPUT_SIZE = 512;

type Weights = Map<string, WeightTensor>;

/** conv + batch_norm_offset + relu6, face-api's pointwiseConvLayer (also the 3x3 convs of the head). */
function pointwiseConv(g: OnnxGraphBuilder, w: Weights, x: string, prefix: string, stride: number): string {
  const filters = weight(w, `${prefix}/weights`, 4);
  const offset = weight(w, `${prefix}/convolution_bn_offset`, 1).data as Float32Array;
  return g.relu6(g.conv(x, hwioToOihw(filters), offset, { stride, padding: 'same' }));
}

/** depthwise conv + batch norm (folded into the filters) + relu6, face-api's depthwiseConvLayer. */
function depthwiseConv(g: OnnxGraphBuilder, w: Weights, x: string, layer: number, stride: number): string {
  const prefix = `MobilenetV1/Conv2d_${layer}_depthwise`;
  const filters = depthwiseToOihw(weight(w, `${prefix}/depthwise_weights`, 4));
  const gamma = weight(w, `${prefix}/BatchNorm/gamma`, 1).data;
  const beta = weight(w, `${prefix}/BatchNorm/beta`, 1).data;
  const mean = weight(w, `${prefix}/BatchNorm/moving_mean`, 1).data;
  const variance = weight(w, `${prefix}/BatchNorm/moving_variance`, 1).data;
  const channels = filters.dims[0] as number;
  const perChannel = filters.data.length / channels;
  const bias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const factor = (gamma[c] as number) / Math.sqrt((variance[c] as number) + BATCH_NORM_EPSILON);
    for (let k = 0; k < perChannel; k++)
      filters.data[c * perChannel + k] = (filters.data[c * perChannel + k] as number) * factor;
    bias[c] = (beta[c] as number) - (mean[c] as number) * factor;
  }
  return g.relu6(g.conv(x, filters, bias, { stride, padding: 'same', group: channels }));
}

/** One BoxPredictor: box encodings [N, cells*anchors, 4] and class logits [N, cells*anchors, 3]. */
function boxPredictor(
  g: OnnxGraphBuilder,
  w: Weights,
  x: string,
  index: number,
): { box: string; cls: string } {
  const predictor = (name: string, width: number) => {
    const prefix = `Prediction/BoxPredictor_${index}/${name}`;
    const filters = hwioToOihw(weight(w, `${prefix}/weights`, 4));
    const bias = weight(w, `${prefix}/biases`, 1).data as Float32Array;
    const conv = g.conv(x, filters, bias, { stride: 1, padding: 'same' });
    // TFJS reshapes NHWC: anchors vary fastest, then columns, then rows.
    return g.reshape(g.transpose(conv, [0, 2, 3, 1]), [0, -1, width]);
  };
  return { box: predictor('BoxEncodingPredictor', 4), cls: predictor('ClassPredictor', 3) };
}

/**
 * Converts face-api's SsdMobilenetv1 (mobileNetV1 + predictionLayer + outputLayer) to ONNX:
 * input `input` [N,3,512,512] normalised to -1..1, outputs `boxes` [N,5118,4] (y1,x1,y2,x2 in 0..1
 * of the input, decoded against the anchors in `Output/extra_dim`) and `scores` [N,5118].
 */
export function convertSsdMobilenetv1(w: Weights): Uint8Array {
  const g = new OnnxGraphBuilder('ssd_mobilenetv1');
  const input = g.input('input', ['N', 3, SSD_INPUT_SIZE, SSD_INPUT_SIZE]);

  let out = pointwiseConv(g, w, input, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let conv11 = '';
  for (let layer = 1; layer <= 13; layer++) {
    out = depthwiseConv(g, w, out, layer, STRIDE_2_LAYERS.has(layer) ? 2 : 1);
    out = pointwiseConv(g, w, out, `MobilenetV1/Conv2d_${layer}_pointwise`, 1);
    if (layer === 11) conv11 = out;
  }

  const head: string[] = [];
  let previous = out;
  for (let i = 0; i < 8; i++) {
    previous = pointwiseConv(g, w, previous, `Prediction/Conv2d_${i}_pointwise`, i % 2 === 1 ? 2 : 1);
    head.push(previous);
  }
  const featureMaps = [conv11, out, head[1], head[3], head[5], head[7]] as string[];
  const predictions = featureMaps.map((map, i) => boxPredictor(g, w, map, i));
  const encodings = g.node(
    'Concat',
    predictions.map((p) => p.box),
    { axis: { i: 1 } },
  );
  const classes = g.node(
    'Concat',
    predictions.map((p) => p.cls),
    { axis: { i: 1 } },
  );

  const scores = g.reshape(g.node('Sigmoid', [g.slice(classes, 2, 1, 2)]), [0, -1]);
  g.output(scores, 'scores', ['N', SSD_ANCHORS]);

  // face-api's outputLayer: anchors (extra_dim) as corners -> centre and size, then the usual SSD
  // decoding with variances 10 (centre) and 5 (size).
  const anchors = weight(w, 'Output/extra_dim', 3).data;
  const count = anchors.length / 4;
  if (count !== SSD_ANCHORS) throw new Error(`expected ${SSD_ANCHORS} anchors, got ${count}`);
  const sizes = new Float32Array(count * 2);
  const centres = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < 2; k++) {
      const size = Math.fround((anchors[i * 4 + 2 + k] as number) - (anchors[i * 4 + k] as number));
      sizes[i * 2 + k] = size;
      centres[i * 2 + k] = Math.fround((anchors[i * 4 + k] as number) + Math.fround(size / 2));
    }
  }
  const sizesT = g.constant('anchor_sizes', [count, 2], sizes);
  const centresT = g.constant('anchor_centres', [count, 2], centres);
  const centre = g.add(
    g.node('Mul', [g.node('Div', [g.slice(encodings, 2, 0, 2), g.scalar(10)]), sizesT]),
    centresT,
  );
  const half = g.node('Div', [
    g.node('Mul', [g.node('Exp', [g.node('Div', [g.slice(encodings, 2, 2, 4), g.scalar(5)])]), sizesT]),
    g.scalar(2),
  ]);
  const boxes = g.node('Concat', [g.node('Sub', [centre, half]), g.add(centre, half)], { axis: { i: 2 } });
  g.output(boxes, 'boxes', ['N', SSD_ANCHORS, 4]);

  return g.encode('face-api SSD-MobileNetV1 face detector, converted from @vladmandic/face-api TFJS weights');
}
