/**
 * The reference implementation for the parity tests: @vladmandic/face-api's own networks running on
 * TFJS's WebAssembly backend (no native build; face-api's node-wasm bundle), loaded from the same
 * weights the converter reads.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

// face-api's bundles are untyped CommonJS; the tests use a handful of calls on them.
// biome-ignore lint/suspicious/noExplicitAny: see above
export type FaceApi = any;
// biome-ignore lint/suspicious/noExplicitAny: TFJS tensors from face-api's bundle
export type TfTensor = any;

/** face-api with the three networks loaded, on the wasm backend. */
export async function loadFaceApi(): Promise<FaceApi> {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  // usePlatformFetch false: Node's fetch cannot read a file path, emscripten's loader can.
  wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`, false);
  await faceapi.tf.setBackend('wasm');
  await faceapi.tf.ready();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api')), '..', 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  return faceapi;
}

/** The sample photos face-api ships (demo/sample1..6.jpg). */
export function samplePhotos(): string[] {
  const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api')), '..', 'demo');
  return [1, 2, 3, 4, 5, 6].map((i) => path.join(demo, `sample${i}.jpg`));
}

/** Decodes a photo to an RGB [H, W, 3] float32 tensor (as face-api's node demos do, no EXIF rotation). */
export async function decodePhoto(faceapi: FaceApi, file: string): Promise<TfTensor> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return faceapi.tf.tensor3d(Float32Array.from(data), [info.height, info.width, 3], 'float32');
}

/** HWC float pixels to the NCHW tensor data an ONNX model takes: (pixel - mean) / std. */
export function toNchw(hwc: Float32Array, size: number, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(3 * size * size);
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      out[c * plane + i] = ((hwc[i * 3 + c] as number) - (mean[c] as number)) / (std[c] as number);
    }
  }
  return out;
}

/** A TFJS graph model (model.json + shards) loaded with TFJS's own graph executor. */
export async function loadGraphModel(faceapi: FaceApi, modelJsonPath: string): Promise<FaceApi> {
  const fs = await import('node:fs');
  const json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
  const dir = path.dirname(modelJsonPath);
  // biome-ignore lint/suspicious/noExplicitAny: TFJS weight specs
  const groups = json.weightsManifest as { paths: string[]; weights: any[] }[];
  const weightData = new Uint8Array(
    Buffer.concat(groups.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))))),
  ).buffer;
  return faceapi.tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: groups.flatMap((g) => g.weights),
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  });
}
