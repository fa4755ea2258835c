import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;

/** Range of the uint8 activations of a quantized input: value = (q - zeroPoint) * scale. */
interface ActivationRange {
  scale: number;
  zeroPoint: number;
}

/** Symmetric int8 weights (-127..127); 7-bit weights (onnxruntime's reduce_range) measured worse here. */
const WEIGHT_LEVELS = 127;

/** ReLU6 outputs (Clip 0..6): 0..255 covers them exactly. */
const RELU6_RANGE: ActivationRange = { scale: 6 / 255, zeroPoint: 0 };

type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

function floatData(tensor: Tensor): Float32Array {
  if (tensor.dataType !== DataType.FLOAT || !tensor.rawData) {
    throw new Error(`initializer ${tensor.name} is not raw float32`);
  }
  const raw = tensor.rawData;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

function rawTensor(name: string, dataType: number, dims: number[], values: ArrayBufferView): Tensor {
  return {
    name,
    dataType,
    dims,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

function axisAttribute(axis: number): onnxProto.onnx.IAttributeProto {
  return { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis };
}

/**
 * Static int8 quantization in ONNX's QDQ form, for networks built of convolutions that read ReLU6
 * outputs (MobileNet): each such Conv gets per-channel symmetric int8 weights, an int32 bias, and a
 * QuantizeLinear/DequantizeLinear pair on its input over ReLU6's 0..6 in 255 steps. No calibration
 * data is needed: ReLU6 fixes every quantized activation's range (calibrating on face-api's sample
 * photos found them all reaching 6, and changed nothing). onnxruntime fuses each DQ -> Conv -> Clip
 * -> Q chain into one integer QLinearConv. Other Convs (the first, on the image) stay float: a
 * quantized first layer doubled the largest score error on the sample photos for no speed.
 */
export function quantizeRelu6Convs(modelBytes: Uint8Array): { bytes: Uint8Array; quantized: number } {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node || !graph.initializer || !graph.input) throw new Error('model has no graph');
  const initializers = new Map(graph.initializer.map((t) => [t.name as string, t]));
  const producers = new Map<string, Node>();
  for (const node of graph.node) for (const output of node.output ?? []) producers.set(output, node);

  const nodes: Node[] = [];
  const added: Tensor[] = [];
  const dequantized = new Map<string, { name: string; range: ActivationRange }>();
  let quantized = 0;

  const rangeOf = (tensor: string): ActivationRange | undefined => {
    const producer = producers.get(tensor);
    if (producer?.opType !== 'Clip') return undefined;
    const [, low, high] = producer.input ?? [];
    const bound = (name: string | undefined) => {
      const t = name ? initializers.get(name) : undefined;
      return t ? floatData(t)[0] : undefined;
    };
    return bound(low) === 0 && bound(high) === 6 ? RELU6_RANGE : undefined;
  };

  /** The tensor through a Q/DQ pair (one pair per tensor, however many Convs read it). */
  const quantizedInput = (tensor: string, range: ActivationRange): string => {
    const seen = dequantized.get(tensor);
    if (seen) return seen.name;
    const id = dequantized.size;
    const scale = `qdq_${id}_scale`;
    const zero = `qdq_${id}_zero`;
    added.push(rawTensor(scale, DataType.FLOAT, [], Float32Array.of(range.scale)));
    added.push(rawTensor(zero, DataType.UINT8, [], Uint8Array.of(range.zeroPoint)));
    nodes.push({
      opType: 'QuantizeLinear',
      name: `qdq_${id}_quantize`,
      input: [tensor, scale, zero],
      output: [`qdq_${id}_q`],
    });
    nodes.push({
      opType: 'DequantizeLinear',
      name: `qdq_${id}_dequantize`,
      input: [`qdq_${id}_q`, scale, zero],
      output: [`qdq_${id}_dq`],
    });
    dequantized.set(tensor, { name: `qdq_${id}_dq`, range });
    return `qdq_${id}_dq`;
  };

  /** An integer initializer with per-output-channel scales, dequantized to float for its Conv. */
  const perChannelConstant = (
    name: string,
    dataType: number,
    dims: number[],
    values: Int8Array | Int32Array,
    scales: Float32Array,
    zeros: Int8Array | Int32Array,
  ): string => {
    added.push(rawTensor(`${name}_q`, dataType, dims, values));
    added.push(rawTensor(`${name}_scale`, DataType.FLOAT, [scales.length], scales));
    added.push(rawTensor(`${name}_zero`, dataType, [zeros.length], zeros));
    nodes.push({
      opType: 'DequantizeLinear',
      name: `${name}_dequantize`,
      input: [`${name}_q`, `${name}_scale`, `${name}_zero`],
      output: [`${name}_dq`],
      attribute: [axisAttribute(0)],
    });
    return `${name}_dq`;
  };

  for (const node of graph.node) {
    const [x, w, b] = node.input ?? [];
    const weights = w ? initializers.get(w) : undefined;
    const range = node.opType === 'Conv' && x ? rangeOf(x) : undefined;
    if (!range || !weights || !x || !w) {
      nodes.push(node);
      continue;
    }
    const data = floatData(weights);
    const dims = (weights.dims ?? []).map(Number);
    const channels = dims[0] as number;
    const perChannel = data.length / channels;
    const q = new Int8Array(data.length);
    const scales = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      let max = 0;
      for (let i = 0; i < perChannel; i++) max = Math.max(max, Math.abs(data[c * perChannel + i] as number));
      const scale = max > 0 ? max / WEIGHT_LEVELS : 1;
      scales[c] = scale;
      for (let i = 0; i < perChannel; i++)
        q[c * perChannel + i] = Math.round((data[c * perChannel + i] as number) / scale);
    }
    const inputs = [
      quantizedInput(x, range),
      perChannelConstant(w, DataType.INT8, dims, q, scales, new Int8Array(channels)),
    ];
    const bias = b ? initializers.get(b) : undefined;
    if (b && bias) {
      // int32 bias at scale input x weight, as QLinearConv takes it.
      const values = floatData(bias);
      const biasScales = scales.map((s) => s * range.scale);
      const biasQ = Int32Array.from(values, (v, c) => Math.round(v / (biasScales[c] as number)));
      inputs.push(
        perChannelConstant(b, DataType.INT32, [channels], biasQ, biasScales, new Int32Array(channels)),
      );
    } else if (b) {
      inputs.push(b);
    }
    nodes.push({ ...node, input: inputs });
    quantized += 1;
  }

  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.node = nodes;
  graph.initializer = [...graph.initializer.filter((t) => used.has(t.name as string)), ...added];
  model.docString = `${model.docString ?? ''} (int8 QDQ: ${quantized} convolutions)`;
  return { bytes: onnx.ModelProto.encode(model).finish(), quantized };
}
