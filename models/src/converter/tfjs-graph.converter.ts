import fs from 'node:fs';
import path from 'node:path';
import { depthwiseToOihw, hwioToOihw, OnnxGraphBuilder } from './onnx-graph.builder.js';
import {
  readWeightGroups,
  type WeightGroup,
  WeightsFormatError,
  type WeightTensor,
} from './tfjs-weights.reader.js';

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<
    string,
    { i?: string; f?: number; b?: boolean; s?: string; list?: { i?: string[]; s?: string[] } }
  >;
}

interface GraphModelJson {
  modelTopology: { node: GraphNode[] };
  weightsManifest: WeightGroup[];
}

/** A TFJS graph op the converter has no ONNX mapping for. */
export class UnsupportedOpError extends WeightsFormatError {
  constructor(op: string, node: string) {
    super(`TFJS op ${op} (node ${node}) has no ONNX mapping in this converter`);
  }
}

/** Where a TF (NHWC) axis of a 4-D tensor sits in the converted NCHW tensor. */
const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

const decodeString = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

export interface GraphConversionOptions {
  /** Name of the ONNX input ([N, 3, H, W], NCHW). */
  inputName: string;
  /** Name of the ONNX output. */
  outputName: string;
  /** TFJS node whose value is the output (defaults to the last node). */
  outputNode?: string;
  docString: string;
}

/**
 * Converts a TFJS graph model (model.json + shards) of plain feed-forward CNN ops to ONNX, with the
 * NHWC activations of TF turned into NCHW. Covers the ops of human-models' face embedders
 * (MobileFaceNet, MobileFace): fused and plain conv / depthwise conv with bias and ReLU/ReLU6/PReLU,
 * element-wise arithmetic, Pad, Squeeze, Reshape, MatMul, Sum/Mean, Rsqrt, Square.
 */
export function convertTfjsGraphModel(modelJsonPath: string, options: GraphConversionOptions): Uint8Array {
  const model = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8')) as GraphModelJson;
  const weights = readWeightGroups(model.weightsManifest, path.dirname(modelJsonPath));
  const nodes = new Map(model.modelTopology.node.map((n) => [n.name, n]));
  const g = new OnnxGraphBuilder(path.basename(modelJsonPath, '.json'));
  /** ONNX tensor name and rank of each converted TF node. */
  const values = new Map<string, { name: string; rank: number }>();

  const constant = (name: string): WeightTensor => {
    const tensor = weights.get(name);
    if (!tensor) throw new WeightsFormatError(`constant ${name} has no weights`);
    return tensor;
  };
  const isConst = (name: string) => nodes.get(name)?.op === 'Const';
  const ints = (node: GraphNode, key: string) => (node.attr?.[key]?.list?.i ?? []).map(Number);
  const str = (node: GraphNode, key: string) => decodeString(node.attr?.[key]?.s ?? '');

  /** A constant as an initializer broadcastable against a tensor of `rank` in NCHW. */
  const constantFor = (name: string, rank: number): { name: string; rank: number } => {
    const tensor = constant(name);
    const data = Float32Array.from(tensor.data);
    if (rank === 4 && tensor.shape.length === 1 && tensor.shape[0] !== 1) {
      return { name: g.constant('c', [tensor.shape[0] as number, 1, 1], data), rank: 3 };
    }
    if (rank === 4 && tensor.shape.length === 4) throw new UnsupportedOpError('4-D constant operand', name);
    return { name: g.constant('c', tensor.shape, data), rank: tensor.shape.length };
  };

  const convert = (tfName: string): { name: string; rank: number } => {
    const key = tfName.replace(/:0$/, '');
    const done = values.get(key);
    if (done) return done;
    const node = nodes.get(key);
    if (!node) throw new WeightsFormatError(`node ${key} missing from the graph`);
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    const operand = (i: number, rank: number) => {
      const name = inputs[i] as string;
      return isConst(name) ? constantFor(name, rank) : convert(name);
    };
    let out: { name: string; rank: number };
    switch (node.op) {
      case 'Placeholder': {
        const dims = (node.attr?.shape as unknown as { shape: { dim: { size: string }[] } }).shape.dim.map(
          (d) => Number(d.size),
        );
        out = {
          name: g.input(options.inputName, ['N', dims[3] as number, dims[1] as number, dims[2] as number]),
          rank: 4,
        };
        break;
      }
      case 'Identity':
        out = convert(inputs[0] as string);
        break;
      case 'Conv2D':
      case '_FusedConv2D':
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative': {
        const x = convert(inputs[0] as string);
        const depthwise = node.op.includes('Depthwise');
        const filters = constant(inputs[1] as string);
        const fused = (node.attr?.fused_ops?.list?.s ?? []).map(decodeString);
        const strides = ints(node, 'strides');
        const dilations = ints(node, 'dilations');
        if (dilations.some((d) => d !== 1)) throw new UnsupportedOpError(`${node.op} with dilation`, key);
        const padding = str(node, 'padding');
        if (padding !== 'SAME' && padding !== 'VALID')
          throw new UnsupportedOpError(`${node.op} padding ${padding}`, key);
        const onnxWeights = depthwise ? depthwiseToOihw(filters) : hwioToOihw(filters);
        const bias = fused.includes('BiasAdd')
          ? Float32Array.from(constant(inputs[2] as string).data)
          : undefined;
        let y = g.conv(x.name, onnxWeights, bias, {
          stride: strides[1] as number,
          padding: padding === 'SAME' ? 'same' : 'valid',
          group: depthwise ? (onnxWeights.dims[0] as number) : 1,
        });
        for (const op of fused.filter((f) => f !== 'BiasAdd')) {
          if (op === 'Relu') y = g.relu(y);
          else if (op === 'Relu6') y = g.relu6(y);
          else if (op === 'Prelu') y = g.node('PRelu', [y, constantFor(inputs[3] as string, 4).name]);
          else throw new UnsupportedOpError(`${node.op} fused ${op}`, key);
        }
        out = { name: y, rank: 4 };
        break;
      }
      case 'Relu':
      case 'Abs':
      case 'Sigmoid':
      case 'Sqrt': {
        const x = convert(inputs[0] as string);
        out = { name: g.node(node.op === 'Relu' ? 'Relu' : node.op, [x.name]), rank: x.rank };
        break;
      }
      case 'Relu6': {
        const x = convert(inputs[0] as string);
        out = { name: g.relu6(x.name), rank: x.rank };
        break;
      }
      case 'Rsqrt': {
        const x = convert(inputs[0] as string);
        out = { name: g.node('Reciprocal', [g.node('Sqrt', [x.name])]), rank: x.rank };
        break;
      }
      case 'Square': {
        const x = convert(inputs[0] as string);
        out = { name: g.node('Mul', [x.name, x.name]), rank: x.rank };
        break;
      }
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum': {
        const onnxOp = {
          Add: 'Add',
          AddV2: 'Add',
          Sub: 'Sub',
          Mul: 'Mul',
          RealDiv: 'Div',
          Maximum: 'Max',
          Minimum: 'Min',
        }[node.op] as string;
        const [a, b] = inputs as [string, string];
        const rank = Math.max(isConst(a) ? 0 : convert(a).rank, isConst(b) ? 0 : convert(b).rank);
        const left = operand(0, rank);
        const right = operand(1, rank);
        out = { name: g.node(onnxOp, [left.name, right.name]), rank: Math.max(left.rank, right.rank) };
        break;
      }
      case 'Squeeze': {
        const x = convert(inputs[0] as string);
        const axes = ints(node, 'squeeze_dims').map((a) =>
          x.rank === 4 ? (NHWC_TO_NCHW_AXIS[a] as number) : a,
        );
        out = { name: g.node('Squeeze', [x.name, g.int64('axes', axes)]), rank: x.rank - axes.length };
        break;
      }
      case 'Sum':
      case 'Mean': {
        const x = convert(inputs[0] as string);
        const keep = node.attr?.keep_dims?.b ? 1 : 0;
        const axes = Array.from(constant(inputs[1] as string).data).map((a) => {
          const axis = a < 0 ? a + x.rank : a;
          return x.rank === 4 ? (NHWC_TO_NCHW_AXIS[axis] as number) : axis;
        });
        const y =
          node.op === 'Sum'
            ? g.node('ReduceSum', [x.name, g.int64('axes', axes)], { keepdims: { i: keep } })
            : g.node('ReduceMean', [x.name], { axes: { ints: axes }, keepdims: { i: keep } });
        out = { name: y, rank: keep ? x.rank : x.rank - axes.length };
        break;
      }
      case 'Pad': {
        const x = convert(inputs[0] as string);
        const pads = Array.from(constant(inputs[1] as string).data);
        if (x.rank !== 4) throw new UnsupportedOpError('Pad of a non 4-D tensor', key);
        const begin = NHWC_TO_NCHW_AXIS.map((_, nchw) => pads[NHWC_TO_NCHW_AXIS.indexOf(nchw) * 2] as number);
        const end = NHWC_TO_NCHW_AXIS.map(
          (_, nchw) => pads[NHWC_TO_NCHW_AXIS.indexOf(nchw) * 2 + 1] as number,
        );
        out = { name: g.pad(x.name, [...begin, ...end]), rank: 4 };
        break;
      }
      case 'Reshape': {
        const x = convert(inputs[0] as string);
        const shape = Array.from(constant(inputs[1] as string).data);
        // TF flattens NHWC order: go back to NHWC before reshaping.
        const source = x.rank === 4 ? g.transpose(x.name, [0, 2, 3, 1]) : x.name;
        out = { name: g.reshape(source, shape), rank: shape.length };
        break;
      }
      case 'MatMul': {
        const x = convert(inputs[0] as string);
        const w = constant(inputs[1] as string);
        if (node.attr?.transpose_a?.b || node.attr?.transpose_b?.b)
          throw new UnsupportedOpError('MatMul with transpose', key);
        out = {
          name: g.node('MatMul', [x.name, g.constant('w', w.shape, Float32Array.from(w.data))]),
          rank: 2,
        };
        break;
      }
      default:
        throw new UnsupportedOpError(node.op, key);
    }
    values.set(key, out);
    return out;
  };

  const last = options.outputNode ?? (model.modelTopology.node.at(-1)?.name as string);
  const result = convert(last);
  g.output(result.name, options.outputName, result.rank === 2 ? ['N', 'D'] : ['N']);
  return g.encode(options.docString);
}
