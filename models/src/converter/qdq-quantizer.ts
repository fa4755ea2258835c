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

/** Observed range of one float tensor over a calibration set. */
export interface TensorRange {
  min: number;
  max: number;
}

/** uint8 activations covering `range` (and 0, which must be exact: zero padding and ReLU's floor). */
function activationRange({ min, max }: TensorRange): ActivationRange {
  const low = Math.min(0, min);
  const high = Math.max(0, max);
  const scale = high > low ? (high - low) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-low / scale))) };
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
  return quantizeConvs(modelBytes, (_tensor, producer) => {
    if (producer?.opType !== 'Clip') return undefined;
    const [, low, high] = producer.input ?? [];
    return low && high ? { clip: [low, high] } : undefined;
  });
}

/**
 * Static int8 quantization from calibrated ranges (`calibrationModel` exposes the tensors to
 * measure): every Conv whose input was calibrated, except those reading the graph's input, gets
 * per-channel int8 weights, an int32 bias and a uint8 Q/DQ pair on its input over the observed
 * range; a Conv whose output goes anywhere but a ReLU (the second conv of a residual block, into
 * the Add) gets a Q/DQ pair on its output too, so onnxruntime can fuse it into a QLinearConv.
 */
export function quantizeCalibratedConvs(
  modelBytes: Uint8Array,
  ranges: ReadonlyMap<string, TensorRange>,
): { bytes: Uint8Array; quantized: number } {
  return quantizeConvs(
    modelBytes,
    (tensor, producer) => {
      // No producer: the graph's input (the image), which stays float.
      const range = ranges.get(tensor);
      return range && producer ? { range: activationRange(range) } : undefined;
    },
    ranges,
  );
}

/**
 * The model with every Conv's input and output added to the graph outputs, to measure their ranges
 * over calibration inputs (onnxruntime keeps an output's tensor from being optimised away).
 */
export function calibrationModel(modelBytes: Uint8Array): { bytes: Uint8Array; tensors: string[] } {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node || !graph.output) throw new Error('model has no graph');
  const existing = new Set(graph.output.map((o) => o.name as string));
  const tensors = new Set<string>();
  for (const node of graph.node) {
    if (node.opType !== 'Conv') continue;
    const x = node.input?.[0];
    const y = node.output?.[0];
    if (x) tensors.add(x);
    if (y) tensors.add(y);
  }
  const added = [...tensors].filter((t) => !existing.has(t));
  for (const name of added) {
    graph.output.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), tensors: [...tensors] };
}

/** How one Conv input is quantized: over a ReLU6's Clip bounds, or a calibrated range. */
type InputQuantization = { clip: [string, string] } | { range: ActivationRange };

function quantizeConvs(
  modelBytes: Uint8Array,
  inputQuantization: (tensor: string, producer: Node | undefined) => InputQuantization | undefined,
  outputRanges?: ReadonlyMap<string, TensorRange>,
): { bytes: Uint8Array; quantized: number } {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node || !graph.initializer || !graph.input) throw new Error('model has no graph');
  const initializers = new Map(graph.initializer.map((t) => [t.name as string, t]));
  const producers = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  for (const node of graph.node) {
    for (const output of node.output ?? []) producers.set(output, node);
    for (const input of node.input ?? []) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }

  const nodes: Node[] = [];
  const added: Tensor[] = [];
  const dequantized = new Map<string, { name: string; range: ActivationRange }>();
  let quantized = 0;

  const rangeOf = (tensor: string): ActivationRange | undefined => {
    const how = inputQuantization(tensor, producers.get(tensor));
    if (!how) return undefined;
    if ('range' in how) return how.range;
    const bound = (name: string) => {
      const t = initializers.get(name);
      return t ? floatData(t)[0] : undefined;
    };
    return bound(how.clip[0]) === 0 && bound(how.clip[1]) === 6 ? RELU6_RANGE : undefined;
  };

  /** Appends a Q/DQ pair from `tensor` to `output` (a fresh name when absent); returns `output`. */
  const qdqPair = (tensor: string, range: ActivationRange, output?: string): string => {
    const id = dequantized.size;
    const dq = output ?? `qdq_${id}_dq`;
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
      output: [dq],
    });
    dequantized.set(tensor, { name: dq, range });
    return dq;
  };

  /** The tensor through a Q/DQ pair (one pair per tensor, however many Convs read it). */
  const quantizedInput = (tensor: string, range: ActivationRange): string =>
    dequantized.get(tensor)?.name ?? qdqPair(tensor, range);

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
    // An output that no ReLU reads (and so no later Q/DQ pair bounds) gets its own pair.
    const y = node.output?.[0];
    const outputRange = y ? outputRanges?.get(y) : undefined;
    const readByRelu = (consumers.get(y ?? '') ?? []).every(
      (c) => c.opType === 'Relu' || c.opType === 'Clip',
    );
    if (y && outputRange && !readByRelu) {
      const raw = `${y}_float`;
      nodes.push({ ...node, input: inputs, output: [raw] });
      qdqPair(raw, activationRange(outputRange), y);
    } else {
      nodes.push({ ...node, input: inputs });
    }
    quantized += 1;
  }

  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.node = nodes;
  graph.initializer = [...graph.initializer.filter((t) => used.has(t.name as string)), ...added];
  model.docString = `${model.docString ?? ''} (int8 QDQ: ${quantized} convolutions)`;
  return { bytes: onnx.ModelProto.encode(model).finish(), quantized };
}
