import { depthwiseToOihw, hwioToOihw, OnnxGraphBuilder } from './onnx-graph.builder.js';
import { type WeightTensor, weight } from './tfjs-weights.reader.js';

export const LANDMARK_INPUT_SIZE = 112;

type Weights = Map<string, WeightTensor>;

/** tf.separableConv2d (depthwise, then pointwise) + bias, face-api's depthwiseSeparableConv. */
function separableConv(g: OnnxGraphBuilder, w: Weights, x: string, prefix: string, stride: number): string {
  const depthwise = depthwiseToOihw(weight(w, `${prefix}/depthwise_filter`, 4));
  const channels = depthwise.dims[0] as number;
  const dw = g.conv(x, depthwise, undefined, { stride, padding: 'same', group: channels });
  const pointwise = hwioToOihw(weight(w, `${prefix}/pointwise_filter`, 4));
  return g.conv(dw, pointwise, weight(w, `${prefix}/bias`, 1).data as Float32Array, {
    stride: 1,
    padding: 'same',
  });
}

/** face-api's denseBlock4 (always scaling down by 2). */
function denseBlock4(
  g: OnnxGraphBuilder,
  w: Weights,
  x: string,
  prefix: string,
  isFirstLayer: boolean,
): string {
  const out1 = g.relu(
    isFirstLayer
      ? g.conv(
          x,
          hwioToOihw(weight(w, `${prefix}/conv0/filters`, 4)),
          weight(w, `${prefix}/conv0/bias`, 1).data as Float32Array,
          {
            stride: 2,
            padding: 'same',
          },
        )
      : separableConv(g, w, x, `${prefix}/conv0`, 2),
  );
  const out2 = separableConv(g, w, out1, `${prefix}/conv1`, 1);
  const in3 = g.relu(g.add(out1, out2));
  const out3 = separableConv(g, w, in3, `${prefix}/conv2`, 1);
  const in4 = g.relu(g.add(out1, g.add(out2, out3)));
  const out4 = separableConv(g, w, in4, `${prefix}/conv3`, 1);
  return g.relu(g.add(out1, g.add(out2, g.add(out3, out4))));
}

/**
 * Converts face-api's FaceLandmark68Net (FaceFeatureExtractor + fully connected classifier) to ONNX:
 * input `input` [N,3,112,112] normalised, output `landmarks` [N,136], 68 (x,y) in 0..1 of the input.
 */
export function convertFaceLandmark68(w: Weights): Uint8Array {
  const g = new OnnxGraphBuilder('face_landmark_68');
  const input = g.input('input', ['N', 3, LANDMARK_INPUT_SIZE, LANDMARK_INPUT_SIZE]);
  let out = denseBlock4(g, w, input, 'dense0', true);
  out = denseBlock4(g, w, out, 'dense1', false);
  out = denseBlock4(g, w, out, 'dense2', false);
  out = denseBlock4(g, w, out, 'dense3', false);
  out = g.node('AveragePool', [out], {
    kernel_shape: { ints: [7, 7] },
    strides: { ints: [2, 2] },
    pads: { ints: [0, 0, 0, 0] },
  });
  out = g.node('Flatten', [out], { axis: { i: 1 } });
  out = g.dense(out, weight(w, 'fc/weights', 2), weight(w, 'fc/bias', 1));
  g.output(out, 'landmarks', ['N', 136]);
  return g.encode('face-api FaceLandmark68Net, converted from @vladmandic/face-api TFJS weights');
}
