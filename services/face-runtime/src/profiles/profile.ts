import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '@vigil/core';
import onnxProto from 'onnx-proto';
import {
  BUILD_DIR,
  type DetectorManifest,
  type FaceView,
  type FalseMatchRates,
  type ModelProfile,
  readProfile,
  type TensorNormalisation,
} from './manifest.js';
import { SSD_STRIDES, ssdAnchorSizes } from './ssd-anchors.js';

/** Anchor sizes go into profile.json to 4 decimals (pixels). */
const round = (value: number) => Math.round(value * 1e4) / 1e4;

/** Folder `npm run build` writes the default profile (converted face-api models) into. */
export const DEFAULT_PROFILE_DIR = path.join(BUILD_DIR, 'default');

/** File names inside DEFAULT_PROFILE_DIR. */
export const DEFAULT_MODEL_FILES = {
  detector: 'ssd_mobilenetv1.onnx',
  detectorInt8: 'ssd_mobilenetv1_int8.onnx',
  landmarks: 'face_landmark_68.onnx',
  /** face-api's uint8 port of dlib's descriptor: held to face-api by the parity test. */
  embedder: 'face_recognition.onnx',
  /** dlib's own float weights of the same descriptor, and their int8 build (the profile's). */
  dlibEmbedder: 'dlib_face_recognition.onnx',
  dlibEmbedderInt8: 'dlib_face_recognition_int8.onnx',
  /** faceplugin's ArcFace-style 512-d embedder (npm faceplugin-face-recognition-js), float and int8. */
  arcfaceEmbedder: 'faceplugin_fr_feature.onnx',
  arcfaceEmbedderInt8: 'faceplugin_fr_feature_int8.onnx',
  /** faceplugin's RFB-320 face detector, its input size freed (npm faceplugin-face-recognition-js). */
  rfbDetector: 'faceplugin_fr_detect.onnx',
  /** The default profile. */
  profile: 'profile.json',
  /** The `dlib` profile: dlib's descriptor over the crop and its turned views, each mirrored. */
  dlibProfile: 'dlib.json',
  /** The `fast` profile: dlib's descriptor, each face embedded from its crop and mirror only. */
  fastProfile: 'fast.json',
} as const;

/**
 * Embedding-space id of the default profile: faceplugin's ArcFace-style 512-d embedder (its
 * pointwise convolutions int8), each face averaged with its mirror image. Other ids are other spaces (`npx vigil reembed`
 * moves stored images between them): DLIB_MODEL_ID, FAST_MODEL_ID, and face-api's uint8 port of
 * dlib's net (`faceapi-resnet34-mirror-int8-v1`, `faceapi-resnet34-mirror-v1`, `faceapi-resnet34-v1`).
 */
export const DEFAULT_MODEL_ID = 'faceplugin-arcface512-mirror-int8-v1';

/**
 * Embedding-space id of the `dlib` profile: dlib's ResNet-34 descriptor with dlib's own float
 * weights in an int8 build (`dlib_face_recognition_int8.onnx`), each face averaged over its crop and
 * the crop turned 3 degrees either way (DLIB_VIEWS), each with its mirror image.
 */
export const FACEAPI_MODEL_ID = 'dlib-resnet34-rot3-mirror-int8-v1';

/** Embedding-space id of the `fast` profile: the default's models, the crop and its mirror only. */
export const FAST_MODEL_ID = 'dlib-resnet34-mirror-int8-v1';

/**
 * The 5 points (left eye centre, right eye centre, nose tip, left and right mouth corner, in image
 * order) of dlib's 150x150 face chip, `get_face_chip_details(shape, 150, 0.25)`: dlib's mean face
 * shape m (points 17-67, interpolation.h) lands at (0.25 + m) / 1.5 * 150; eyes are the means of
 * points 36-41 and 42-47, the nose tip point 30, the mouth corners 48 and 54.
 */
export const DLIB_CHIP_TEMPLATE_150: [number, number][] = [
  [47.5492, 46.599],
  [100.4761, 46.599],
  [74.0127, 76.5625],
  [50.4149, 103.0233],
  [97.6104, 103.0233],
];

/** insightface's canonical 5 points in the 112x112 ArcFace crop (arcface_torch, `arcface_dst`). */
export const ARCFACE_TEMPLATE_112: [number, number][] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** face-api's per-channel RGB means for the landmark and recognition nets (then divided by 255). */
const FACEAPI_MEAN_RGB: [number, number, number] = [122.782, 117.001, 104.298];

/**
 * Cosine similarity at or above which two face-api descriptors are the same person. face-api (and
 * dlib) accept Euclidean distance < 0.6 on raw descriptors of norm about 1.4 (1.30-1.47 on face-api's
 * sample faces): cosine 1 - 0.6^2 / (2 * 1.4^2) = 0.91; the LFW screen (README, folds 1-2,
 * landmark-aligned crops) chose 0.911. `npx vigil eval lfw` measures it on the full pipeline.
 */
export const FACEAPI_DEFAULT_THRESHOLD = 0.91;

/** Largest batch of faces one embedder call takes with the converted models (dynamic batch axis). */
const FACEAPI_MAX_BATCH = 32;

/** face-api's input scaling for its landmark and recognition nets: (x - mean) / 255. */
export const FACEAPI_FACE_NORMALISATION: TensorNormalisation = {
  channels: 'rgb',
  layout: 'nchw',
  mean: FACEAPI_MEAN_RGB,
  std: [255, 255, 255],
};

/**
 * dlib's `input_rgb_image_sized<150>`: (x - mean) / 256 with the same means. face-api divides by
 * 255 instead; dlib's own weights are run as dlib ran them.
 */
const DLIB_FACE_NORMALISATION: TensorNormalisation = { ...FACEAPI_FACE_NORMALISATION, std: [256, 256, 256] };

/**
 * The `fast` profile as build.ts writes it (file names relative to the profile's folder): the
 * default's models, each face embedded from its aligned crop and the crop's mirror image (2 crops).
 */
export function fastProfile(): ModelProfile {
  return {
    name: 'fast',
    modelId: FAST_MODEL_ID,
    description:
      "face-api's SSD-MobileNetV1 detector, 68-point landmarks and dlib's ResNet-34 128-d descriptor, converted to ONNX from @vladmandic/face-api 1.7.15 weights",
    detector: {
      kind: 'ssd-mobilenetv1',
      // The int8 build of the converted SSD (qdq-quantizer.ts): ~40% faster, the same faces (parity
      // test) and the same LFW accuracy as the float model, which stays beside it for reference.
      file: DEFAULT_MODEL_FILES.detectorInt8,
      input: 'input',
      // face-api letterboxes every image to 512x512; the converted model takes any size, so a frame
      // goes in at its own aspect with the same scale (1920x1080 as 512x288: 44% less to compute).
      inputSize: [512, 512],
      dynamicInput: true,
      // face-api: x / 127.5 - 1
      normalisation: {
        channels: 'rgb',
        layout: 'nchw',
        mean: [127.5, 127.5, 127.5],
        std: [127.5, 127.5, 127.5],
      },
      outputs: ['encodings', 'scores'],
      strides: SSD_STRIDES,
      anchorSizes: ssdAnchorSizes().map((cell) => cell.map(([w, h]) => [round(w), round(h)])),
      // face-api's SsdMobilenetv1Options default minConfidence and its fixed NMS IoU.
      scoreThreshold: 0.5,
      nmsIoU: 0.5,
      landmarkCount: 0,
    },
    landmarks: {
      kind: 'dlib68',
      file: DEFAULT_MODEL_FILES.landmarks,
      input: 'input',
      output: 'landmarks',
      inputSize: 112,
      normalisation: FACEAPI_FACE_NORMALISATION,
    },
    embedder: {
      kind: 'dlib-resnet',
      // dlib's float weights (face-api ships them quantized to uint8) in an int8 build calibrated
      // on face-api's sample faces: about half the float model's time, cosine >= 0.999 with it.
      file: DEFAULT_MODEL_FILES.dlibEmbedderInt8,
      input: 'input',
      inputSize: [150, 150],
      normalisation: DLIB_FACE_NORMALISATION,
      template: DLIB_CHIP_TEMPLATE_150,
      embeddingSize: 128,
      output: 'embedding',
      maxBatch: FACEAPI_MAX_BATCH,
      // LFW folds 1-3 (1,800 pairs): 98.28% for the crop alone, 99.00% averaged with its mirror.
      mirrorAverage: true,
    },
    defaultThreshold: FACEAPI_DEFAULT_THRESHOLD,
    thresholdFloor: FACEAPI_DEFAULT_THRESHOLD,
  };
}

/**
 * The `dlib` profile's views of each face beyond its aligned crop: the crop turned 3 degrees
 * either way, the limits of dlib's `jitter_image` rotation, deterministic rather than dlib's 100
 * random draws. With the crop, each with its mirror image: 6 crops a face, three times the `fast`
 * profile's embedder work. Rotation was the one kind of view that helped in every LFW measurement
 * (two CPUs, views resampled from the photo or from the crop: 36-39 errors of 6,000 against 41-43);
 * zooms and shifts added nothing beyond noise at up to nine times the work, and no set of 4 crops
 * did better than the crop and its mirror (services/detector/README.md, Jitter views).
 */
export const DLIB_VIEWS: FaceView[] = [
  { degrees: 3, zoom: 1 },
  { degrees: -3, zoom: 1 },
];

/**
 * The `dlib` profile as build.ts writes it: the `fast` profile's models with every face embedded
 * from DLIB_VIEWS as well: dlib's published LFW accuracy (99.38%), and about half the default's
 * watchlist (1:N) hit rate (docs/decisions/001-default-embedder.md).
 */
export function faceApiProfile(): ModelProfile {
  const profile = fastProfile();
  return {
    ...profile,
    name: 'dlib',
    modelId: FACEAPI_MODEL_ID,
    description: `${profile.description}; each face embedded from its crop and the crop turned 3 degrees either way, each with its mirror image (dlib's num_jitters)`,
    embedder: { ...profile.embedder, views: DLIB_VIEWS },
  };
}

/** `(pixel - 127) / 128`, RGB: how faceplugin's own code feeds its embedder. */
const FACEPLUGIN_NORMALISATION: TensorNormalisation = {
  channels: 'rgb',
  layout: 'nchw',
  mean: [127, 127, 127],
  std: [128, 128, 128],
};

/**
 * Cosine similarity at or above which the default profile alerts: on LFW 1:N (1,680 people on the
 * list, 4,043 not) the lowest that kept false alerts to 1 in 1,000 non-mated searches
 * (docs/decisions/001-default-profile-chosen-on-1n.md). Same-person scores sit around 0.5-0.8,
 * different people's around 0.1-0.3.
 */
export const DEFAULT_THRESHOLD = 0.56;

/**
 * The lowest threshold a deployment may use with the default profile: on the same list, the one
 * at 1 false alert in 100 searches of people not on it. A list larger than 1,680 needs more.
 */
export const DEFAULT_THRESHOLD_FLOOR = 0.49;

/**
 * The default profile's false match rates on LFW 1:N (benchmarks/src/lfw/watchlist-protocol.ts):
 * each of the 4,043 one-photo people against each of the 1,680 enrolled people, 6,792,240
 * comparisons, embedded as shipped (`npm run bench -- --only accuracy`, 2026-12-06). Each pair is
 * [threshold, comparisons at or above it]. From 0.59 up the count stays at a handful: those few
 * pairs are one person under two LFW names, so the rate there is a floor, not a measurement.
 */
const DEFAULT_FALSE_MATCHES: readonly [threshold: number, count: number][] = [
  [0.4, 1073],
  [0.41, 773],
  [0.42, 529],
  [0.43, 358],
  [0.44, 239],
  [0.45, 159],
  [0.46, 117],
  [0.47, 86],
  [0.48, 56],
  [0.49, 36],
  [0.5, 28],
  [0.51, 21],
  [0.52, 14],
  [0.53, 9],
  [0.54, 7],
  [0.55, 5],
  [0.56, 4],
  [0.58, 4],
  [0.6, 3],
  [0.7, 3],
  [0.75, 1],
];
const DEFAULT_COMPARISONS = 6_792_240;

export const DEFAULT_FALSE_MATCH_RATES: FalseMatchRates = {
  dataset: 'LFW press photos, 4,043 people not on the list against 1,680 on it',
  comparisons: DEFAULT_COMPARISONS,
  measuredOn: '2026-12-06',
  points: DEFAULT_FALSE_MATCHES.map(([threshold, count]) => ({
    threshold,
    fmr: count / DEFAULT_COMPARISONS,
  })),
};

/**
 * faceplugin's RFB detector as the default profile runs it. The network takes any size once its
 * anchors are computed outside it (faceplugin.converter.ts). A 1080p camera frame goes in at
 * 768x432, where a face 40 px wide in the frame is 16 px, above the smallest anchor (10 px): recall
 * of 40 px faces 85% at 640x360, 95% at 768x432, 98% at 960x540, and 768 costs two thirds of 960.
 * Photos go in at 960x540, as LFW 1:N measured the profile and enrolment was tested
 * (docs/decisions/001-default-profile-chosen-on-1n.md).
 */
export function rfbDetector(): DetectorManifest {
  return {
    kind: 'rfb',
    file: DEFAULT_MODEL_FILES.rfbDetector,
    input: 'input',
    inputSize: [768, 432],
    photoInputSize: [960, 540],
    dynamicInput: true,
    // A photo is never enlarged: its face is already large, and the anchors stop at 256 px.
    maxUpscale: 1,
    normalisation: FACEPLUGIN_NORMALISATION,
    outputs: ['scores', 'regressions'],
    strides: [8, 16, 32, 64],
    anchorSides: [
      [10, 16, 24],
      [32, 48],
      [64, 96],
      [128, 192, 256],
    ],
    // faceplugin's own code keeps 0.65 (lib/fr_detect.js); at 0.65 a face-api sample photo gave a
    // forehead as a second face (0.80), and at 0.85 recall of 40 px faces is still 98%.
    scoreThreshold: 0.85,
    // faceplugin's NMS IoU; nested boxes are suppressed as well (raw-detection.ts).
    nmsIoU: 0.4,
    landmarkCount: 0,
    // A face over about 150 px in its input comes back in a box tall with hair and neck (a close-up
    // portrait: sharpness 13 and pitch 50 read from it, 72 and 11 with the padded look's box).
    paddedFirst: true,
  };
}

/**
 * The default profile as build.ts writes it: faceplugin's RFB detector finds each face down to 40 px
 * wide in a 1080p frame, face-api's 68-point landmarks align it (the 5 points ArcFace's template
 * names, taken from the 68), and faceplugin's ArcFace-style embedder describes it from its 112x112
 * crop and the crop's mirror image. Chosen on 1:N (docs/decisions/001-default-profile-chosen-on-1n.md).
 */
export function defaultProfile(): ModelProfile {
  const { landmarks } = fastProfile();
  return {
    name: 'default',
    modelId: DEFAULT_MODEL_ID,
    description:
      "faceplugin's RFB face detector and ArcFace-style 512-d embedder (npm faceplugin-face-recognition-js 0.0.1), face-api's 68-point landmarks (ONNX from @vladmandic/face-api 1.7.15 weights); each face with its mirror image",
    detector: rfbDetector(),
    landmarks,
    embedder: {
      kind: 'arcface',
      // Its pointwise convolutions int8 (calibrated on face-api's sample faces), the depthwise ones
      // float: half the float model's time, the same LFW 1:N figures (docs/decisions/001).
      file: DEFAULT_MODEL_FILES.arcfaceEmbedderInt8,
      input: 'input',
      inputSize: [112, 112],
      normalisation: FACEPLUGIN_NORMALISATION,
      template: ARCFACE_TEMPLATE_112,
      embeddingSize: 512,
      output: 'output',
      maxBatch: FACEAPI_MAX_BATCH,
      mirrorAverage: true,
    },
    defaultThreshold: DEFAULT_THRESHOLD,
    thresholdFloor: DEFAULT_THRESHOLD_FLOOR,
    falseMatchRates: DEFAULT_FALSE_MATCH_RATES,
  };
}

/** The profiles `npm run build` writes into DEFAULT_PROFILE_DIR: name, manifest file, manifest. */
export const BUILT_PROFILES: readonly { name: string; file: string; manifest: () => ModelProfile }[] = [
  { name: 'default', file: DEFAULT_MODEL_FILES.profile, manifest: defaultProfile },
  { name: 'dlib', file: DEFAULT_MODEL_FILES.dlibProfile, manifest: faceApiProfile },
  { name: 'fast', file: DEFAULT_MODEL_FILES.fastProfile, manifest: fastProfile },
];

/** Other names of built profiles: `accurate` is an earlier name of the `dlib` profile. */
export const PROFILE_ALIASES: Readonly<Record<string, string>> = { accurate: 'dlib' };

/** The requested profile does not exist where it was looked for. */
export class ModelNotBuiltError extends VigilError {
  override readonly name = 'ModelNotBuiltError';
  constructor(where: string) {
    super('model_not_built', `model profile not built (${where} missing): run \`npm run build\` first`, 500);
  }
}

/** A profile path given by the user that holds no readable profile. */
export class ModelNotFoundError extends VigilError {
  override readonly name = 'ModelNotFoundError';
  constructor(message: string) {
    super('model_not_found', message, 400);
  }
}

/**
 * Loads a model profile: `default`, `dlib` or `fast` (built into DEFAULT_PROFILE_DIR; `accurate`,
 * an earlier name, is `dlib`), a folder holding
 * `profile.json`, or a profile JSON path. File paths in the result are absolute. A missing built
 * profile is `model_not_built` (run `npm run build`); a missing user path `model_not_found`.
 */
export function loadProfile(nameOrPath = 'default', options: { defaultDir?: string } = {}): ModelProfile {
  const name = PROFILE_ALIASES[nameOrPath] ?? nameOrPath;
  const builtIn = BUILT_PROFILES.find((profile) => profile.name === name);
  const isBuilt = builtIn !== undefined;
  const defaultDir = options.defaultDir ?? DEFAULT_PROFILE_DIR;
  let manifestPath = isBuilt ? path.join(defaultDir, builtIn.file) : path.resolve(nameOrPath);
  const missing = (what: string) =>
    isBuilt
      ? new ModelNotBuiltError(what)
      : new ModelNotFoundError(`model profile ${nameOrPath}: ${what} missing`);
  if (!isBuilt && fs.existsSync(manifestPath) && fs.statSync(manifestPath).isDirectory()) {
    manifestPath = path.join(manifestPath, DEFAULT_MODEL_FILES.profile);
  }
  if (!fs.existsSync(manifestPath)) throw missing(manifestPath);
  let profile: ModelProfile;
  try {
    profile = readProfile(manifestPath);
  } catch (cause) {
    throw new ModelNotFoundError(
      `model profile ${manifestPath} is not a readable profile: ${(cause as Error).message}`,
    );
  }
  for (const file of [profile.detector.file, profile.embedder.file, profile.landmarks?.file]) {
    if (file && !fs.existsSync(file)) throw missing(file);
  }
  return profile;
}

interface OnnxSignature {
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
}

/** Input and output names and shapes of an ONNX file, read with onnx-proto (no session needed). */
export function readOnnxSignature(file: string): OnnxSignature {
  const model = onnxProto.onnx.ModelProto.decode(fs.readFileSync(file));
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const describe = (values: onnxProto.onnx.IValueInfoProto[] | null | undefined) =>
    (values ?? []).map((v) => ({
      name: v.name ?? '',
      dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
        d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0
          ? Number(d.dimValue)
          : (d.dimParam ?? '?'),
      ),
    }));
  return {
    // Old exporters list initializers among the inputs too.
    inputs: describe(model.graph?.input).filter((v) => !initializers.has(v.name)),
    outputs: describe(model.graph?.output),
  };
}

export interface InsightfaceProfileOptions {
  /** SCRFD detector with 5 keypoints (score_8/16/32, bbox_8/16/32, kps_8/16/32). */
  detectorFile: string;
  /** ArcFace-style embedder on 112x112 aligned crops (e.g. MobileFaceNet, ResNet-50 ArcFace). */
  embedderFile: string;
  /** Profile name; defaults to `insightface`. */
  name?: string;
  /** Cosine threshold; defaults to INSIGHTFACE_DEFAULT_THRESHOLD until measured on LFW. */
  threshold?: number;
}

/**
 * Cosine threshold for ArcFace-family embedders before calibration: ArcFace-trained models put
 * different people around 0-0.2 and the same person above 0.4; 0.35 is the usual starting point.
 */
export const INSIGHTFACE_DEFAULT_THRESHOLD = 0.35;
const SCRFD_STRIDES = [8, 16, 32];

/**
 * A profile for bring-your-own insightface-style models: an SCRFD detector with 5 keypoints and a
 * 112x112 ArcFace/MobileFaceNet embedder, both `(x - 127.5) / 128` RGB NCHW. Where the files exist
 * their tensor names, embedding size and batch axis are read from them; otherwise the standard names
 * are assumed. The embedding space id is derived from the embedder file name.
 */
export function insightfaceProfile(options: InsightfaceProfileOptions): ModelProfile {
  const normalisation: TensorNormalisation = {
    channels: 'rgb',
    layout: 'nchw',
    mean: [127.5, 127.5, 127.5],
    std: [128, 128, 128],
  };
  const detectorFile = path.resolve(options.detectorFile);
  const embedderFile = path.resolve(options.embedderFile);
  const standardOutputs = ['score', 'bbox', 'kps'].flatMap((kind) =>
    SCRFD_STRIDES.map((s) => `${kind}_${s}`),
  );
  let detectorInput: string | undefined;
  let detectorOutputs = standardOutputs;
  if (fs.existsSync(detectorFile)) {
    const signature = readOnnxSignature(detectorFile);
    detectorInput = signature.inputs[0]?.name;
    const names = signature.outputs.map((o) => o.name);
    // Keep the standard order where the file uses the standard names; else the file's own order
    // (insightface's exporter writes scores, boxes, keypoints, each by stride).
    detectorOutputs = standardOutputs.every((n) => names.includes(n)) ? standardOutputs : names;
  }
  let embedderInput: string | undefined;
  let embedderOutput = 'output';
  let embeddingSize = 512;
  let maxBatch = 1;
  if (fs.existsSync(embedderFile)) {
    const signature = readOnnxSignature(embedderFile);
    embedderInput = signature.inputs[0]?.name;
    const output = signature.outputs[0];
    if (output) {
      embedderOutput = output.name;
      const last = output.dims[output.dims.length - 1];
      if (typeof last === 'number') embeddingSize = last;
    }
    const batch = signature.inputs[0]?.dims[0];
    maxBatch = typeof batch === 'number' ? batch : FACEAPI_MAX_BATCH;
  }
  const embedderName = path.basename(embedderFile).replace(/\.onnx$/i, '');
  return {
    name: options.name ?? 'insightface',
    modelId: `insightface-${embedderName}`,
    description: `SCRFD (${path.basename(detectorFile)}) + ArcFace-aligned ${embedderName}`,
    detector: {
      kind: 'scrfd',
      file: detectorFile,
      ...(detectorInput ? { input: detectorInput } : {}),
      inputSize: [640, 640],
      dynamicInput: true,
      normalisation,
      outputs: detectorOutputs,
      strides: SCRFD_STRIDES,
      anchorsPerCell: 2,
      // insightface's SCRFD defaults (det_thresh 0.5, nms_thresh 0.4).
      scoreThreshold: 0.5,
      nmsIoU: 0.4,
      landmarkCount: 5,
    },
    embedder: {
      kind: 'arcface',
      file: embedderFile,
      ...(embedderInput ? { input: embedderInput } : {}),
      inputSize: [112, 112],
      normalisation,
      template: ARCFACE_TEMPLATE_112,
      embeddingSize,
      output: embedderOutput,
      maxBatch,
    },
    defaultThreshold: options.threshold ?? INSIGHTFACE_DEFAULT_THRESHOLD,
    thresholdFloor: options.threshold ?? INSIGHTFACE_DEFAULT_THRESHOLD,
  };
}
