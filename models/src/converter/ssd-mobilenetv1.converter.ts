import { SSD_STRIDES, SSD_TRAINING_SIDE, ssdAnchorSizes, ssdAnchors } from '@vigil/face-runtime';
import { depthwiseToOihw, hwioToOihw, OnnxGraphBuilder } from './onnx-graph.builder.js';
import { type WeightTensor, weight } from './tfjs-weights.reader.js';

/** face-api's mobileNetV1 batch-norm epsilon (the float32 of 0.001). */
const BATCH_NORM_EPSILON = 0.0010000000474974513;
/** Depthwise layers of MobileNetV1 that stride 2 (face-api's getStridesForLayerIdx). */
const STRIDE_2_LAYERS = new Set([2, 4, 6, 12]);

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
 * Checks face-api's stored prior boxes (`Output/extra_dim`, corners normalised to 512x512) against
 * the generator the runtime decodes with: the converted model outputs raw box encodings for any
 * input size, so the anchors must come from the same formula face-api's were made with.
 */
function checkAnchors(w: Weights): void {
  const stored = weight(w, 'Output/extra_dim', 3).data;
  const generated = ssdAnchors(SSD_STRIDES, ssdAnchorSizes(), SSD_TRAINING_SIDE, SSD_TRAINING_SIDE);
  if (stored.length !== generated.length) {
    throw new Error(`expected ${generated.length / 4} anchors, face-api has ${stored.length / 4}`);
  }
  const side = SSD_TRAINING_SIDE;
  for (let i = 0; i < stored.length; i += 4) {
    const [cx, cy, width, height] = [0, 1, 2, 3].map((k) => generated[i + k] as number) as [
      number,
      number,
      number,
      number,
    ];
    const expected = [cy - height / 2, cx - width / 2, cy + height / 2, cx + width / 2];
    for (let k = 0; k < 4; k++) {
      if (Math.abs((stored[i + k] as number) * side - (expected[k] as number)) > 0.05) {
        throw new Error(`SSD anchor ${i / 4} differs from the anchor generator`);
      }
    }
  }
}

/**
 * Converts face-api's SsdMobilenetv1 (mobileNetV1 + predictionLayer) to ONNX with a dynamic input:
 * `input` [N,3,H,W] normalised to -1..1 (512x512 is what face-api feeds; a 16:9 frame can go in as
 * 512x288), outputs `encodings` [N,A,4] (face-api's box encodings: centre y, x and log size h, w
 * against the anchors of `ssdAnchors`, variances 10 and 5) and `scores` [N,A] (sigmoid face score).
 */
export function convertSsdMobilenetv1(w: Weights): Uint8Array {
  checkAnchors(w);
  const g = new OnnxGraphBuilder('ssd_mobilenetv1');
  const input = g.input('input', ['N', 3, 'H', 'W']);

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
  g.output(encodings, 'encodings', ['N', 'A', 4]);
  const scores = g.reshape(g.node('Sigmoid', [g.slice(classes, 2, 1, 2)]), [0, -1]);
  g.output(scores, 'scores', ['N', 'A']);

  return g.encode('face-api SSD-MobileNetV1 face detector, converted from @vladmandic/face-api TFJS weights');
}
