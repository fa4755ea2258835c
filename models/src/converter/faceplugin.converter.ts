import onnxProto from 'onnx-proto';
import { type PinnedPackage, readTarEntry } from './npm-tarball.source.js';

const { onnx } = onnxProto;

/**
 * `faceplugin-face-recognition-js` (MIT): its `model/fr_feature.onnx` is an ArcFace-style 512-d
 * embedder on 112x112 crops aligned to the standard 5-point template, fed `(pixel - 127) / 128` RGB.
 */
export const FACEPLUGIN_PACKAGE: PinnedPackage = {
  name: 'faceplugin-face-recognition-js',
  version: '0.0.1',
  integrity:
    'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==',
};

/** The embedder's path inside the package's tarball. */
export const FACEPLUGIN_EMBEDDER_ENTRY = 'package/model/fr_feature.onnx';
/** The detector's: an RFB-320 face detector (Ultra-Light-Fast-Generic-Face-Detector's design). */
export const FACEPLUGIN_DETECTOR_ENTRY = 'package/model/fr_detect.onnx';

/** Output names of the rewritten detector: class probabilities and raw box regressions per anchor. */
export const RFB_OUTPUTS = { scores: 'scores', regressions: 'regressions' } as const;

/** Name of the batch axis the rewritten model declares. */
const BATCH_AXIS = 'N';

/** Opset of the rewritten model: per-channel QuantizeLinear (the int8 build) needs 13. */
const OPSET = 13;

/** Smallest normal float32: PyTorch left 8,938 of the embedder's weights below it. */
const MIN_NORMAL_FLOAT32 = 1.1754943508222875e-38;

/**
 * The embedder as Vigil runs it: batch axis freed (`freeBatchAxis`), denormal weights set to 0
 * (x86 computes with denormals at a fraction of the speed: 88 ms a crop with them, 24 without, the
 * embeddings equal to 1e-6), each PRelu written as ReLUs (`expandPrelu`), and opset 9 raised to 13,
 * under which its Conv, Relu, Sub, Mul, Add and Reshape mean the same.
 */
export function prepareFacepluginEmbedder(modelBytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(expandPrelu(freeBatchAxis(modelBytes)));
  for (const tensor of model.graph?.initializer ?? []) {
    if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT || !tensor.rawData) continue;
    const values = new Float32Array(new Uint8Array(tensor.rawData).buffer);
    for (let i = 0; i < values.length; i++) {
      if (Math.abs(values[i] as number) < MIN_NORMAL_FLOAT32) values[i] = 0;
    }
    tensor.rawData = new Uint8Array(values.buffer);
  }
  model.opsetImport = [{ domain: '', version: OPSET }];
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Every PRelu(x, slope) as Relu(x) + slope * (x - Relu(x)): the same numbers, and onnxruntime runs
 * the four element-wise ops far faster than its PRelu with a per-channel slope, which took more time
 * than all the convolutions (7.5 of 20 ms a crop float; 46 of 65 ms in the int8 build under load).
 */
export function expandPrelu(modelBytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node) throw new Error('model has no graph');
  const nodes: onnxProto.onnx.INodeProto[] = [];
  let count = 0;
  for (const node of graph.node) {
    const [x, slope] = node.input ?? [];
    const y = node.output?.[0];
    if (node.opType !== 'PRelu' || !x || !slope || !y) {
      nodes.push(node);
      continue;
    }
    const id = `prelu_${count++}`;
    nodes.push(
      { opType: 'Relu', name: `${id}_relu`, input: [x], output: [`${id}_positive`] },
      { opType: 'Sub', name: `${id}_sub`, input: [x, `${id}_positive`], output: [`${id}_negative`] },
      { opType: 'Mul', name: `${id}_mul`, input: [`${id}_negative`, slope], output: [`${id}_scaled`] },
      { opType: 'Add', name: `${id}_add`, input: [`${id}_positive`, `${id}_scaled`], output: [y] },
    );
  }
  graph.node = nodes;
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The model with its batch axis freed: the file fixes it at 1 (input, output and the final
 * Reshape's target shape `[1, -1]`), so every face would need its own call. The graph is
 * convolutions, PReLUs and Adds before that Reshape: each face is computed independently, and a
 * Reshape to `[0, -1]` (0 keeps the input's batch size) gives the same numbers for any batch.
 * Intermediate shape annotations, all with the fixed batch, are dropped; onnxruntime infers them.
 */
export function freeBatchAxis(modelBytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node || !graph.input || !graph.output) throw new Error('model has no graph');
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name as string, t]));
  const freeFirst = (value: onnxProto.onnx.IValueInfoProto) => {
    const first = value.type?.tensorType?.shape?.dim?.[0];
    if (first) {
      first.dimValue = null;
      first.dimParam = BATCH_AXIS;
    }
  };
  for (const value of [...graph.input, ...graph.output]) {
    if (!initializers.has(value.name as string)) freeFirst(value);
  }
  for (const node of graph.node) {
    if (node.opType !== 'Reshape') continue;
    const shape = initializers.get(node.input?.[1] as string);
    if (!shape?.rawData) throw new Error(`Reshape ${node.name}: target shape is not an initializer`);
    // A copy: decoded bytes are a view into the whole file's buffer.
    const dims = new BigInt64Array(new Uint8Array(shape.rawData).buffer);
    if (dims[0] !== 1n) throw new Error(`Reshape ${node.name}: batch dimension ${dims[0]}, expected 1`);
    dims[0] = 0n;
    shape.rawData = new Uint8Array(dims.buffer);
  }
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}

/** faceplugin's ArcFace-style embedder from its npm tarball, prepared to run (float). */
export function convertFacepluginEmbedder(tarball: string): Uint8Array {
  const bytes = readTarEntry(tarball, FACEPLUGIN_EMBEDDER_ENTRY);
  if (!bytes) throw new Error(`${tarball} has no ${FACEPLUGIN_EMBEDDER_ENTRY}`);
  return prepareFacepluginEmbedder(bytes);
}

/** The graph's raw box regressions, before it decodes them against anchors fixed for 320x240. */
const RFB_REGRESSIONS = '462';

/**
 * The detector with a free input size: the file decodes its boxes against 4,420 anchors baked in for
 * 320x240, so any other size would be decoded wrong. The graph is cut before that decoding: it
 * outputs the softmax scores [N, anchors, 2] and the raw regressions [N, anchors, 4] (centre x, y,
 * log width, height against each anchor, with variances 0.1 and 0.2), and the runtime computes the
 * anchors of whatever size it feeds (services/detector rfb.decoder.ts). Everything before the cut is
 * convolutions and reshapes whose target shapes keep the batch and take the rest as -1.
 */
export function freeDetectorInput(modelBytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph?.node || !graph.input || !graph.output) throw new Error('model has no graph');
  const producer = graph.node.find((n) => n.output?.includes(RFB_REGRESSIONS));
  if (!producer?.output) throw new Error(`the detector has no tensor ${RFB_REGRESSIONS}`);
  producer.output = producer.output.map((o) => (o === RFB_REGRESSIONS ? RFB_OUTPUTS.regressions : o));
  const wanted = new Set<string>([RFB_OUTPUTS.scores, RFB_OUTPUTS.regressions]);
  // Keep only the nodes the two outputs need (walking back from them).
  const kept: typeof graph.node = [];
  for (const node of [...graph.node].reverse()) {
    if (!(node.output ?? []).some((o) => wanted.has(o))) continue;
    kept.unshift(node);
    for (const input of node.input ?? []) wanted.add(input);
  }
  graph.node = kept;
  graph.initializer = (graph.initializer ?? []).filter((t) => wanted.has(t.name as string));
  const input = graph.input.find((i) => !graph.initializer?.some((t) => t.name === i.name));
  const dims = input?.type?.tensorType?.shape?.dim ?? [];
  ['N', undefined, 'H', 'W'].forEach((name, i) => {
    const dim = dims[i];
    if (dim && name) {
      dim.dimValue = null;
      dim.dimParam = name;
    }
  });
  const output = (name: string, width: number): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimParam: 'anchors' }, { dimValue: width }] },
      },
    },
  });
  graph.output = [output(RFB_OUTPUTS.scores, 2), output(RFB_OUTPUTS.regressions, 4)];
  graph.valueInfo = [];
  return onnx.ModelProto.encode(model).finish();
}

/** faceplugin's detector from its npm tarball, its input size freed. */
export function convertFacepluginDetector(tarball: string): Uint8Array {
  const bytes = readTarEntry(tarball, FACEPLUGIN_DETECTOR_ENTRY);
  if (!bytes) throw new Error(`${tarball} has no ${FACEPLUGIN_DETECTOR_ENTRY}`);
  return freeDetectorInput(bytes);
}

/**
 * Of calibrated activation ranges, those not read by a depthwise convolution: the int8 build leaves
 * the depthwise ones float. Quantizing every convolution put the int8 embedder's cosine with the
 * float one at a median 0.980 over 200 LFW faces (min 0.961); leaving the 17 depthwise ones float,
 * 0.9925 (min 0.985): per-tensor uint8 activations do not suit a 3x3 kernel over one channel, and
 * those convolutions are a few percent of the work.
 */
export function withoutDepthwiseInputs<T>(
  modelBytes: Uint8Array,
  ranges: ReadonlyMap<string, T>,
): Map<string, T> {
  const model = onnx.ModelProto.decode(modelBytes);
  const depthwise = new Set(
    (model.graph?.node ?? [])
      .filter(
        (n) => n.opType === 'Conv' && (n.attribute ?? []).some((a) => a.name === 'group' && Number(a.i) > 1),
      )
      .map((n) => n.input?.[0] as string),
  );
  return new Map([...ranges].filter(([tensor]) => !depthwise.has(tensor)));
}
