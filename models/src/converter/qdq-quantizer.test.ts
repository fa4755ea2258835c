import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from './onnx-graph.builder.js';
import {
  calibrationModel,
  quantizeCalibratedConvs,
  quantizeRelu6Convs,
  type TensorRange,
} from './qdq-quantizer.js';

/** conv 3x3 on the image, ReLU6, depthwise 3x3, ReLU6, pointwise 1x1: a MobileNet block. */
let seed = 7;
function random(): number {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647 - 0.5;
}

function weights(dims: number[]): { dims: number[]; data: Float32Array } {
  return { dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, random) };
}

function mobileNetBlock(): Uint8Array {
  const g = new OnnxGraphBuilder('block');
  const input = g.input('input', [1, 3, 16, 16]);
  let x = g.relu6(
    g.conv(input, weights([8, 3, 3, 3]), new Float32Array(8).fill(0.1), { stride: 1, padding: 'same' }),
  );
  x = g.relu6(
    g.conv(x, weights([8, 1, 3, 3]), new Float32Array(8), { stride: 1, padding: 'same', group: 8 }),
  );
  x = g.conv(x, weights([4, 8, 1, 1]), new Float32Array(4).fill(-0.2), { stride: 1, padding: 'same' });
  g.output(x, 'output', [1, 4, 16, 16]);
  return g.encode('test block');
}

/** conv on the image, ReLU, then a ResNet block: conv, ReLU, conv, + shortcut, ReLU. */
function residualBlock(): Uint8Array {
  const g = new OnnxGraphBuilder('residual');
  const input = g.input('input', [1, 3, 16, 16]);
  const x = g.relu(g.conv(input, weights([8, 3, 3, 3]), new Float32Array(8), { stride: 1, padding: 'same' }));
  let y = g.relu(
    g.conv(x, weights([8, 8, 3, 3]), new Float32Array(8).fill(0.1), { stride: 1, padding: 'same' }),
  );
  y = g.conv(y, weights([8, 8, 3, 3]), new Float32Array(8).fill(-0.1), { stride: 1, padding: 'same' });
  g.output(g.relu(g.add(y, x)), 'output', [1, 8, 16, 16]);
  return g.encode('test residual block');
}

async function run(bytes: Uint8Array, input: Float32Array): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 16, 16]) });
    return Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Largest absolute difference as a fraction of the expected output's range. */
function worstError(expected: Float32Array, actual: Float32Array): number {
  const range = Math.max(...expected) - Math.min(...expected);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  return worst / range;
}

describe('quantizeRelu6Convs', () => {
  it('quantizes the convolutions that read ReLU6 outputs and keeps the result close to float', async () => {
    const float = mobileNetBlock();
    const { bytes, quantized } = quantizeRelu6Convs(float);
    // The first conv reads the image, not a ReLU6: it stays float.
    expect(quantized).toBe(2);
    const nodes = onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? [];
    expect(nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(2);
    // Weights and biases of the two quantized convs, and the two activations.
    expect(nodes.filter((n) => n.opType === 'DequantizeLinear')).toHaveLength(6);

    const input = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.sin(i) * 2);
    const expected = (await run(float, input)).output as Float32Array;
    const actual = (await run(bytes, input)).output as Float32Array;
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.5);
    expect(worstError(expected, actual)).toBeLessThan(0.03);
  });

  it('leaves a graph without ReLU6-fed convolutions as it was', () => {
    const g = new OnnxGraphBuilder('plain');
    const input = g.input('input', [1, 1, 4, 4]);
    g.output(
      g.conv(input, { dims: [1, 1, 1, 1], data: Float32Array.of(2) }, undefined, {
        stride: 1,
        padding: 'same',
      }),
      'output',
      [1, 1, 4, 4],
    );
    expect(quantizeRelu6Convs(g.encode('plain')).quantized).toBe(0);
  });
});

describe('quantizeCalibratedConvs', () => {
  it('quantizes a residual block over calibrated ranges and keeps the result close to float', async () => {
    const float = residualBlock();
    const inputs = [1, 2, 3].map((k) =>
      Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.sin(i * k) * 2),
    );
    // Ranges of every Conv's input and output over the calibration inputs.
    const calibration = calibrationModel(float);
    const ranges = new Map<string, TensorRange>();
    for (const input of inputs) {
      const out = await run(calibration.bytes, input);
      for (const name of calibration.tensors) {
        const values = out[name] as Float32Array;
        const seen = ranges.get(name);
        ranges.set(name, {
          min: Math.min(seen?.min ?? Number.POSITIVE_INFINITY, ...values),
          max: Math.max(seen?.max ?? Number.NEGATIVE_INFINITY, ...values),
        });
      }
    }
    // Inputs and outputs of the three convs.
    expect(calibration.tensors).toHaveLength(6);
    const { bytes, quantized } = quantizeCalibratedConvs(float, ranges);
    // The first conv reads the graph input: it stays float.
    expect(quantized).toBe(2);
    const nodes = onnxProto.onnx.ModelProto.decode(bytes).graph?.node ?? [];
    // Two conv inputs, and the output of the conv that feeds the Add (the other one's ReLU output
    // is the next conv's quantized input already).
    expect(nodes.filter((n) => n.opType === 'QuantizeLinear')).toHaveLength(3);
    for (const input of inputs) {
      const expected = (await run(float, input)).output as Float32Array;
      const actual = (await run(bytes, input)).output as Float32Array;
      expect(worstError(expected, actual)).toBeLessThan(0.03);
    }
  });
});
