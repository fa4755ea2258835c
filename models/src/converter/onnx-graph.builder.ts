import onnxProto from 'onnx-proto';
import type { WeightTensor } from './tfjs-weights.reader.js';

const { onnx } = onnxProto;

/** Opset the converted graphs target; every op used here is unchanged from 13 to 21. */
export const OPSET = 13;
/** ONNX IR version that goes with opset 13. */
const IR_VERSION = 7;

type Attribute = { i: number } | { f: number } | { ints: number[] } | { s: string };

function toAttribute(name: string, value: Attribute): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if ('i' in value) return { name, type: AttributeType.INT, i: value.i };
  if ('f' in value) return { name, type: AttributeType.FLOAT, f: value.f };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.s) };
}

function valueInfo(name: string, dims: (number | string)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** TFJS HWIO conv filters [kh, kw, in, out] to ONNX OIHW [out, in, kh, kw]. */
export function hwioToOihw(filters: WeightTensor): { dims: number[]; data: Float32Array } {
  const [kh, kw, cin, cout] = filters.shape as [number, number, number, number];
  const data = new Float32Array(filters.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          data[((o * cin + i) * kh + h) * kw + w] = filters.data[
            ((h * kw + w) * cin + i) * cout + o
          ] as number;
  return { dims: [cout, cin, kh, kw], data };
}

/** TFJS depthwise filters [kh, kw, channels, 1] to ONNX grouped-conv weights [channels, 1, kh, kw]. */
export function depthwiseToOihw(filters: WeightTensor): { dims: number[]; data: Float32Array } {
  const [kh, kw, channels, multiplier] = filters.shape as [number, number, number, number];
  if (multiplier !== 1) throw new Error(`depthwise multiplier ${multiplier} unsupported`);
  const data = new Float32Array(filters.data.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let c = 0; c < channels; c++)
        data[(c * kh + h) * kw + w] = filters.data[(h * kw + w) * channels + c] as number;
  return { dims: [channels, 1, kh, kw], data };
}

/**
 * Builds one ONNX graph node by node. Every method returns the name of the tensor it produced, so
 * a network reads as a chain of calls the way face-api's TFJS code does.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly graphName: string) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(tensor: string, name: string, dims: (number | string)[]): void {
    this.node('Identity', [tensor], {}, name);
    this.outputs.push(valueInfo(name, dims));
  }

  /** A float32 initializer. */
  constant(prefix: string, dims: number[], data: Float32Array | number[]): string {
    const name = this.fresh(prefix);
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`${name}: ${values.length} values for dims ${dims}`);
    this.initializers.push({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
    return name;
  }

  /** An int64 initializer (shapes, axes, pads). */
  int64(prefix: string, values: number[]): string {
    const name = this.fresh(prefix);
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      int64Data: values,
    });
    return name;
  }

  node(op: string, inputs: string[], attributes: Record<string, Attribute> = {}, output?: string): string {
    const out = output ?? this.fresh(op.toLowerCase());
    this.nodes.push({
      opType: op,
      name: this.fresh(`${op}_node`),
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([k, v]) => toAttribute(k, v)),
    });
    return out;
  }

  /** Conv with TF padding semantics: 'same' is SAME_UPPER (extra pad at the end, as TF does). */
  conv(
    x: string,
    weights: { dims: number[]; data: Float32Array },
    bias: Float32Array | undefined,
    options: { stride: number; padding: 'same' | 'valid'; group?: number },
  ): string {
    const w = this.constant('w', weights.dims, weights.data);
    const inputs = [x, w];
    if (bias) inputs.push(this.constant('b', [bias.length], bias));
    const [, , kh, kw] = weights.dims as [number, number, number, number];
    const attributes: Record<string, Attribute> = {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [options.stride, options.stride] },
      group: { i: options.group ?? 1 },
    };
    if (options.padding === 'same') attributes.auto_pad = { s: 'SAME_UPPER' };
    else attributes.pads = { ints: [0, 0, 0, 0] };
    return this.node('Conv', inputs, attributes);
  }

  relu(x: string): string {
    return this.node('Relu', [x]);
  }

  relu6(x: string): string {
    return this.node('Clip', [x, this.scalar(0), this.scalar(6)]);
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b]);
  }

  /** A float32 scalar initializer. */
  scalar(value: number): string {
    return this.constant('scalar', [], [value]);
  }

  reshape(x: string, shape: number[]): string {
    return this.node('Reshape', [x, this.int64('shape', shape)]);
  }

  transpose(x: string, perm: number[]): string {
    return this.node('Transpose', [x], { perm: { ints: perm } });
  }

  /** Slice along one axis, [start, end). */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.node('Slice', [
      x,
      this.int64('starts', [start]),
      this.int64('ends', [end]),
      this.int64('axes', [axis]),
    ]);
  }

  pad(x: string, pads: number[]): string {
    return this.node('Pad', [x, this.int64('pads', pads)], { mode: { s: 'constant' } });
  }

  /** MatMul by a [in, out] float weight, plus an optional bias. */
  dense(x: string, weights: WeightTensor, bias?: WeightTensor): string {
    const out = this.node('MatMul', [x, this.constant('fc_w', weights.shape, weights.data as Float32Array)]);
    return bias ? this.add(out, this.constant('fc_b', bias.shape, bias.data as Float32Array)) : out;
  }

  /** The serialised ModelProto. */
  encode(docString: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      producerName: 'vigil-models',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
