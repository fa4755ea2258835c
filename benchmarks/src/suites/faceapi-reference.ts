/**
 * The reference pipeline: @vladmandic/face-api (SSD-MobileNetV1, 68-point landmarks, ResNet-34
 * descriptor) on TFJS's WebAssembly backend, loaded as the converter's parity tests load it, and
 * run stage by stage the way face-api's own `detectAllFaces().withFaceLandmarks().withFaceDescriptors()`
 * chain does.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';

const require = createRequire(import.meta.url);

// face-api's bundle is untyped CommonJS; the benchmark uses a handful of calls on it.
// biome-ignore lint/suspicious/noExplicitAny: see above
type FaceApi = any;

/** Milliseconds per stage for one frame, and the faces found. */
export interface StageTimes {
  decode: number;
  detect: number;
  landmarksAlign: number;
  embed: number;
  faces: number;
}

export class FaceApiReference {
  private constructor(private readonly faceapi: FaceApi) {}

  /** Loads face-api's three networks on TFJS-WASM. */
  static async load(): Promise<FaceApiReference> {
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
    return new FaceApiReference(faceapi);
  }

  /** TFJS backend name and whether WASM SIMD / threads are on. */
  backend(): string {
    const tf = this.faceapi.tf;
    const flags = ['WASM_HAS_SIMD_SUPPORT', 'WASM_HAS_MULTITHREAD_SUPPORT']
      .map(
        (flag) =>
          `${flag.replace('WASM_HAS_', '').replace('_SUPPORT', '').toLowerCase()}=${tf.env().getBool(flag)}`,
      )
      .join(' ');
    return `${tf.getBackend()} (${flags})`;
  }

  /** One frame through the whole reference chain, each stage timed. */
  async run(jpeg: Buffer): Promise<StageTimes> {
    const { faceapi } = this;
    const tf = faceapi.tf;
    let started = performance.now();
    const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = tf.tensor3d(Uint8Array.from(data), [info.height, info.width, 3], 'int32');
    const decode = performance.now() - started;
    try {
      started = performance.now();
      const detections = await faceapi.nets.ssdMobilenetv1.locateFaces(
        image,
        new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }),
      );
      const detect = performance.now() - started;

      started = performance.now();
      const faceTensors = await faceapi.extractFaceTensors(image, detections);
      const landmarks = [];
      for (const face of faceTensors)
        landmarks.push(await faceapi.nets.faceLandmark68Net.detectLandmarks(face));
      for (const face of faceTensors) face.dispose();
      // face-api's withFaceDescriptors: dlib-style aligned box from the landmarks, cut out again.
      const alignedBoxes = landmarks.map((points, i) =>
        points.shiftBy(detections[i].box.x, detections[i].box.y).align(null, { useDlibAlignment: true }),
      );
      const aligned = await faceapi.extractFaceTensors(image, alignedBoxes);
      const landmarksAlign = performance.now() - started;

      started = performance.now();
      for (const face of aligned) {
        await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(face);
        face.dispose();
      }
      const embed = performance.now() - started;
      return { decode, detect, landmarksAlign, embed, faces: detections.length };
    } finally {
      image.dispose();
    }
  }
}
