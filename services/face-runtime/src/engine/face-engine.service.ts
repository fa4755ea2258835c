import type { Config, DetectedFace, Point } from '@vigil/core';
import { DLIB_CHIP_LANDMARKS, dlibChipTemplate } from '../alignment/dlib-chip.js';
import { cropView, invertAffine, similarityTransform, warpAffine } from '../alignment/face-geometry.js';
import { type DetectOptions, type FaceCandidate, FaceDetector } from '../detection/face-detector.service.js';
import { FaceEmbedder } from '../embedding/face-embedder.service.js';
import { cosineSimilarity } from '../embedding/similarity.js';
import { decodeImage, type RgbImage } from '../image/image-decoder.js';
import { ModelError } from '../onnx/model.errors.js';
import type { SessionOptions } from '../onnx/onnx-session.js';
import type { ModelProfile } from '../profiles/manifest.js';
import { DLIB_CHIP_TEMPLATE_150 } from '../profiles/profile.js';
import { resolveProfile } from '../profiles/profile-loader.js';
import { brightness, estimatePose, sharpness } from '../quality/face-quality.js';

/** Side of the chip quality is measured on (DLIB_CHIP_TEMPLATE_150's). */
const QUALITY_CHIP_SIDE = 150;

/** Distance between a face's eye centres: its size, whatever box the detector drew. */
function eyeDistance(candidate: FaceCandidate): number {
  const [left, right] = candidate.keypoints;
  return Math.hypot(right[0] - left[0], right[1] - left[1]);
}

function sameTemplate(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): boolean {
  return a.length === b.length && a.every((p, i) => p[0] === b[i]?.[0] && p[1] === b[i]?.[1]);
}

/** One face of an analysed image. */
export interface AnalysedFace {
  face: DetectedFace;
  /** The face aligned to the embedder's template: interleaved 8-bit RGB, `cropSize` pixels. */
  crop: Uint8Array;
  /** L2-normalised embedding, present unless `embed: false`. */
  embedding?: Float32Array;
}

/** What `analyse` found in one image. */
export interface ImageAnalysis {
  width: number;
  height: number;
  faces: AnalysedFace[];
}

/** Options of `analyse` and `detect`. */
export interface AnalyseOptions extends DetectOptions {
  /** Keep at most this many faces, largest first. */
  maxFaces?: number;
  /** Compute embeddings (default true for `analyse`). */
  embed?: boolean;
}

/** How `FaceEngine.load` finds and runs the models. */
export interface FaceEngineOptions extends SessionOptions {
  /** A profile, or its name / path as `--model` takes it (`default`, `fast`, `insightface`, a path). */
  profile?: ModelProfile | string;
  /** Folder of user-supplied models, for the `insightface` profile. */
  modelsDir?: string;
}

/**
 * Vigil's face runtime in one object: image bytes in; faces with boxes, landmarks, quality,
 * aligned crops and embeddings out. Each image is decoded once; every face of an image is
 * embedded in one batched call.
 */
export class FaceEngine {
  private constructor(
    readonly profile: ModelProfile,
    private readonly detector: FaceDetector,
    private readonly embedder: FaceEmbedder,
  ) {
    // dlib's descriptor was trained on chips fitted to 51 of the 68 landmarks; where the detector
    // gives all 68, fit those exactly as dlib does rather than the 5-point template.
    const { embedder: manifest, landmarks } = profile;
    if (
      manifest.kind === 'dlib-resnet' &&
      landmarks?.kind === 'dlib68' &&
      manifest.inputSize[0] === manifest.inputSize[1]
    ) {
      this.dlibChip = dlibChipTemplate(manifest.inputSize[0]);
    }
  }

  private readonly dlibChip: Point[] | undefined;

  /**
   * Engine options from Vigil's configuration: VIGIL_MODEL_PROFILE (unless `profile` is given),
   * VIGIL_MODELS_DIR, VIGIL_EXECUTION_PROVIDER and VIGIL_ORT_THREADS.
   */
  static optionsFromConfig(config: Config, profile?: string): FaceEngineOptions {
    return {
      profile: profile ?? config.VIGIL_MODEL_PROFILE,
      modelsDir: config.VIGIL_MODELS_DIR,
      executionProvider: config.VIGIL_EXECUTION_PROVIDER,
      threads: config.VIGIL_ORT_THREADS,
    };
  }

  /** Loads (and warms up) the profile's models. */
  static async load(options: FaceEngineOptions = {}): Promise<FaceEngine> {
    const profile =
      typeof options.profile === 'object'
        ? options.profile
        : resolveProfile(options.profile ?? 'default', { modelsDir: options.modelsDir });
    for (const view of profile.embedder.views ?? []) {
      const [x, y] = view.shift ?? [0, 0];
      if (![view.degrees, view.zoom, x, y].every(Number.isFinite) || !(view.zoom > 0))
        throw new ModelError(`embedder view ${JSON.stringify(view)}: numbers needed, and a zoom above 0`);
    }
    const session = { executionProvider: options.executionProvider, threads: options.threads };
    const detector = await FaceDetector.load(profile, session);
    try {
      const embedder = await FaceEmbedder.load(profile.embedder, session);
      return new FaceEngine(profile, detector, embedder);
    } catch (error) {
      await detector.dispose();
      throw error;
    }
  }

  /** Side of the aligned crop [width, height]. */
  get cropSize(): [number, number] {
    return this.profile.embedder.inputSize;
  }

  /** The profile's default similarity threshold. */
  get threshold(): number {
    return this.profile.defaultThreshold;
  }

  /** Decodes image bytes (see `decodeImage` for the errors). */
  decode(bytes: Uint8Array): Promise<RgbImage> {
    return decodeImage(bytes);
  }

  /** Faces with quality, largest first, no embeddings. */
  async detect(input: Uint8Array | RgbImage, options: AnalyseOptions = {}): Promise<ImageAnalysis> {
    return this.analyse(input, { ...options, embed: false });
  }

  /** Detects, aligns, measures and (unless `embed: false`) embeds every face, largest first. */
  async analyse(input: Uint8Array | RgbImage, options: AnalyseOptions = {}): Promise<ImageAnalysis> {
    const image = input instanceof Uint8Array ? await decodeImage(input) : input;
    let candidates = await this.detector.detect(image, options);
    // Largest by the distance between the eyes: detectors frame the same face differently (the RFB
    // box of a portrait takes in hair), the eyes are where they are.
    candidates.sort((a, b) => eyeDistance(b) - eyeDistance(a));
    if (options.maxFaces !== undefined) candidates = candidates.slice(0, Math.max(0, options.maxFaces));
    const faces = candidates.map((candidate) => this.align(image, candidate));
    if (options.embed !== false && faces.length > 0) {
      const embeddings = await this.embed(faces.map((f) => f.crop));
      faces.forEach((face, i) => {
        face.embedding = embeddings[i];
      });
    }
    return { width: image.width, height: image.height, faces };
  }

  /**
   * Embeddings of aligned crops (as `analyse` returns them), one batched call where possible; with
   * the profile's `views`, each the average over the crop and its views (resampled from the crop,
   * and zeroed once embedded, as the crops are by their callers).
   */
  async embed(crops: readonly Uint8Array[]): Promise<Float32Array[]> {
    const views = this.profile.embedder.views ?? [];
    if (views.length === 0) return this.embedder.embed(crops);
    const [width, height] = this.profile.embedder.inputSize;
    const resampled = crops.map((crop) => views.map((view) => cropView(crop, width, height, view)));
    try {
      return await this.embedder.embedViews(crops.map((crop, i) => [crop, ...(resampled[i] ?? [])]));
    } finally {
      for (const copies of resampled) for (const copy of copies) copy.fill(0);
    }
  }

  /** Crops each face's embedding is made of: 1 + the profile's `views` (before mirror images). */
  get viewsPerFace(): number {
    return 1 + (this.profile.embedder.views?.length ?? 0);
  }

  /** Cosine similarity of two embeddings of this profile. */
  similarity(a: Float32Array, b: Float32Array): number {
    return cosineSimilarity(a, b);
  }

  async dispose(): Promise<void> {
    await this.detector.dispose();
    await this.embedder.dispose();
  }

  private align(image: RgbImage, candidate: FaceCandidate): AnalysedFace {
    const [width, height] = this.profile.embedder.inputSize;
    const toCrop = this.dlibChip
      ? similarityTransform(
          DLIB_CHIP_LANDMARKS.map((i) => candidate.landmarks[i] as Point),
          this.dlibChip,
        )
      : similarityTransform(candidate.keypoints, this.profile.embedder.template as Point[]);
    const crop = warpAffine(image, invertAffine(toCrop), width, height);
    const [leftEye, rightEye] = candidate.keypoints;
    const pose = estimatePose(candidate.keypoints);
    const measured = this.measureCrop(image, candidate, crop);
    const face: DetectedFace = {
      box: candidate.box,
      score: candidate.score,
      landmarks: candidate.landmarks,
      keypoints: candidate.keypoints,
      quality: {
        interOcular: Math.hypot(rightEye[0] - leftEye[0], rightEye[1] - leftEye[1]),
        sharpness: measured.sharpness,
        yaw: pose.yaw,
        pitch: pose.pitch,
        score: candidate.score,
        brightness: measured.brightness,
      },
    };
    return { face, crop };
  }

  /**
   * Sharpness and brightness of a face, measured on the same framing whatever the embedder's crop:
   * dlib's 150 px chip fitted to the 5 keypoints. The gates' limits (face-quality.ts) were set on
   * that chip; a tighter crop (ArcFace's 112 px template) reads the same face as sharper.
   */
  private measureCrop(
    image: RgbImage,
    candidate: FaceCandidate,
    crop: Uint8Array,
  ): { sharpness: number; brightness: number } {
    const [width, height] = this.profile.embedder.inputSize;
    if (
      this.dlibChip ||
      (width === QUALITY_CHIP_SIDE &&
        height === QUALITY_CHIP_SIDE &&
        sameTemplate(this.profile.embedder.template, DLIB_CHIP_TEMPLATE_150))
    ) {
      return { sharpness: sharpness(crop, width, height), brightness: brightness(crop, width, height) };
    }
    const chip = warpAffine(
      image,
      invertAffine(similarityTransform(candidate.keypoints, DLIB_CHIP_TEMPLATE_150)),
      QUALITY_CHIP_SIDE,
      QUALITY_CHIP_SIDE,
    );
    try {
      return {
        sharpness: sharpness(chip, QUALITY_CHIP_SIDE, QUALITY_CHIP_SIDE),
        brightness: brightness(chip, QUALITY_CHIP_SIDE, QUALITY_CHIP_SIDE),
      };
    } finally {
      chip.fill(0);
    }
  }
}
