import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from './onnx-graph.builder.js';
import { quantizeRelu6Convs } from './qdq-quantizer.js';

/** conv 3x3 on the image, ReLU6, depthwise 3x3, ReLU6, pointwise 1x1: a MobileNet block. */
function mobileNetBlock(): Uint8Array {
  let seed = 7;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647 - 0.5;
  };
  const weights = (dims: number[]) => ({
    dims,
    data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, random),
  });
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

async function run(bytes: Uint8Array, input: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 16, 16]) });
    return out.output?.data as Float32Array;
  } finally {
    await session.release();
  }
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
    const expected = await run(float, input);
    const actual = await run(bytes, input);
    const range = Math.max(...expected) - Math.min(...expected);
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
    expect(range).toBeGreaterThan(0.5);
    expect(worst / range).toBeLessThan(0.03);
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
