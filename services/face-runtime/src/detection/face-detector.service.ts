import type { Point } from '@vigil/core';
import { type Affine, iou, placementInverse, warpAffine } from '../alignment/face-geometry.js';
import type { RgbImage } from '../image/image-decoder.js';
import { ModelError } from '../onnx/model.errors.js';
import { OnnxModel, type SessionOptions } from '../onnx/onnx-session.js';
import type { DetectorManifest, LandmarkManifest, ModelProfile } from '../profiles/manifest.js';
import { keypointsFrom5, keypointsFrom68 } from './landmarks.js';
import { nonMaximumSuppression, type RawDetection } from './raw-detection.js';
import { decodeRfb } from './rfb.decoder.js';
import { decodeScrfd } from './scrfd.decoder.js';
import { decodeSsd } from './ssd.decoder.js';

/** A detected face before quality: box [x, y, w, h] in image pixels, landmarks and the 5 keypoints. */
export interface FaceCandidate {
  box: [number, number, number, number];
  score: number;
  landmarks: Point[];
  keypoints: [Point, Point, Point, Point, Point];
}

/** How one detection runs. */
export interface DetectOptions {
  /**
   * Faces scoring below this are dropped; the manifest's threshold by default (given, it also
   * turns off the photo second look below).
   */
  scoreThreshold?: number;
  /**
   * Black border added on every side before detection, as a fraction of the longer side. `auto`
   * (default, for photos) looks with each of PHOTO_PADDINGS and keeps every face any look found,
   * and where none found a face, looks again at a lower score (PHOTO_SECOND_LOOK_SCORE): detectors
   * trained on crowd photos score tightly framed faces low (FINDINGS.md: 0.12 before padding, 0.96
   * after). `closeUps` adds one padded pass only where the first found a large face: for video
   * frames, where most frames hold no face and a second pass over every empty one would double the
   * cost.
   */
  padding?: number | 'auto' | 'closeUps';
}

/** Detector kinds this runtime decodes. */
const DECODED_KINDS = new Set(['scrfd', 'ssd-mobilenetv1', 'rfb']);

/** Border of the second pass of `padding: 'auto'`: 125 px on a 250 px LFW photo, as FINDINGS measured. */
const AUTO_PADDING = 0.5;
/**
 * A photo (`padding: 'auto'`) where no face reaches the threshold gets one more padded look that
 * keeps faces down to this score. On LFW (int8 pipeline) 28 of the 6,000 pairs had a photo without
 * a face; at 0.3 13 still had, at 0.1 2, and verification went from 98.97% to 99.05% and 99.08%.
 * Enrolment is unchanged by it: `assessEnrolmentImage` counts only faces scoring 0.5 or more, so a
 * photo whose only face the second look found is still `no_face`. Video frames (`closeUps`) never
 * pay for it: most of them hold no face.
 */
const PHOTO_SECOND_LOOK_SCORE = 0.1;
/**
 * Borders a photo (`padding: 'auto'`) is looked at with; a face one of them finds is added unless
 * an earlier look found it (boxes already found stay as they were). The SSD detector's recall on a
 * face depends on its size in its input: on LFW's 250 px photos the 0.5 border alone missed the
 * labelled face of Yasser_Arafat_0005 (0.47; 0.89 with a 0.25 border) and Goldie_Hawn_0002 (in
 * sunglasses: 0.40; 0.97 without a border), and the nearest bystander was taken instead. Over the
 * 7,701 pairs.txt photos the extra looks changed the central face of 5 and fixed 4 of the 49 errors
 * (services/detector/README.md).
 */
const PHOTO_PADDINGS = [0, 0.25, AUTO_PADDING];
/**
 * Borders of the second look, until one finds a face: the widest makes a close-up as small as the
 * crowd faces the detector was trained on (LFW's Abdoulaye_Wade_0003, a large face in shadow: 0.41
 * with a border of 1, nothing above 0.1 with 0.5 or less).
 */
const PHOTO_SECOND_LOOK_PADDINGS = [AUTO_PADDING, 1];
/**
 * Least spread of grey levels (standard deviation, 0-255) in the box of a face found by the photo
 * second look. At its low score the SSD detector also "finds" a face in a region without detail:
 * a plain 1920x1080 frame came back as a 1920x1080 face scored 0.18. Faces measure far above this
 * (eyes, brows and mouth against skin), even the dark and blurred LFW faces the second look exists for.
 */
const MIN_SECOND_LOOK_CONTRAST = 8;
/** Grid of samples `greyContrast` reads from a box, per side. */
const CONTRAST_SAMPLES = 32;

/** A face at least this fraction of the shorter image side counts as a close-up. */
const CLOSE_UP_FRACTION = 0.25;

/**
 * Finds faces in a decoded image: pre-processing (resize, letterbox, normalisation), the detector
 * model, its decoder, non-maximum suppression, and for detectors without keypoints the 68-point
 * landmark model on each face. Boxes and points come back in pixels of the image.
 */
export class FaceDetector {
  private constructor(
    readonly manifest: DetectorManifest,
    private readonly model: OnnxModel,
    private readonly landmarkManifest: LandmarkManifest | undefined,
    private readonly landmarkModel: OnnxModel | undefined,
  ) {}

  /** Opens the profile's detector (and landmark model) and runs one warm-up detection. */
  static async load(profile: ModelProfile, options: SessionOptions = {}): Promise<FaceDetector> {
    if (!DECODED_KINDS.has(profile.detector.kind)) {
      throw new ModelError(`detector kind ${profile.detector.kind} has no decoder in this version`);
    }
    const model = await OnnxModel.open(profile.detector.file, options);
    let landmarkModel: OnnxModel | undefined;
    if (profile.detector.landmarkCount === 0) {
      if (!profile.landmarks) {
        await model.dispose();
        throw new ModelError(
          `profile ${profile.name}: detector ${profile.detector.kind} needs a landmark model`,
        );
      }
      landmarkModel = await OnnxModel.open(profile.landmarks.file, options);
    }
    const detector = new FaceDetector(profile.detector, model, profile.landmarks, landmarkModel);
    const [width, height] = profile.detector.inputSize;
    await detector.detect({ data: new Uint8Array(width * height * 3), width, height }, { padding: 0 });
    if (landmarkModel && profile.landmarks) {
      const side = profile.landmarks.inputSize;
      const { normalisation, input } = profile.landmarks;
      await landmarkModel.runImages([new Uint8Array(side * side * 3)], {
        width: side,
        height: side,
        normalisation,
        name: input,
      });
    }
    return detector;
  }

  /** Faces in `image`, best score first. */
  async detect(image: RgbImage, options: DetectOptions = {}): Promise<FaceCandidate[]> {
    const threshold = options.scoreThreshold ?? this.manifest.scoreThreshold;
    const padding = options.padding ?? 'auto';
    const inputSide = Math.min(...this.manifest.inputSize);
    // A small photo fits the network padded without losing resolution: the padded pass goes first
    // (for a video frame, the plain one runs only where it found nothing).
    const small = Math.max(image.width, image.height) * (1 + 2 * AUTO_PADDING) <= inputSide;
    const adaptive = padding === 'auto' || padding === 'closeUps';
    // A detector that frames large faces badly looks at every photo padded first (see paddedFirst);
    // the photo looks below then add what the padded one missed.
    const paddedPhoto = padding === 'auto' && this.manifest.paddedFirst === true;
    const first = typeof padding === 'number' ? padding : small || paddedPhoto ? AUTO_PADDING : 0;
    const looked = new Set([first]);
    // Camera frames (`closeUps`) take the manifest's inputSize; photos its photoInputSize where set.
    const size =
      padding === 'closeUps'
        ? this.manifest.inputSize
        : (this.manifest.photoInputSize ?? this.manifest.inputSize);
    let detections = await this.pass(image, first, threshold, size);
    if (adaptive && small && !paddedPhoto) {
      if (detections.length === 0 && padding === 'closeUps') {
        detections = await this.pass(image, 0, threshold, size);
        looked.add(0);
      }
    } else if (adaptive && !paddedPhoto) {
      const shorter = Math.min(image.width, image.height);
      const closeUp = detections.some(
        (d) =>
          Math.max(d.corners[2] - d.corners[0], d.corners[3] - d.corners[1]) >= CLOSE_UP_FRACTION * shorter,
      );
      if ((detections.length === 0 && padding === 'auto') || closeUp) {
        const padded = await this.pass(image, AUTO_PADDING, threshold, size);
        detections = this.manifest.paddedFirst
          ? [...padded, ...detections.filter((d) => !padded.some((p) => sameFace(p.corners, d.corners)))]
          : nonMaximumSuppression([...detections, ...padded], this.manifest.nmsIoU);
        looked.add(AUTO_PADDING);
      }
    }
    if (padding === 'auto') {
      for (const border of PHOTO_PADDINGS) {
        if (looked.has(border)) continue;
        const more = await this.pass(image, border, threshold, size);
        detections.push(...more.filter((d) => !detections.some((e) => sameFace(d.corners, e.corners))));
      }
      detections.sort((a, b) => b.score - a.score);
    }
    if (
      padding === 'auto' &&
      detections.length === 0 &&
      options.scoreThreshold === undefined &&
      threshold > PHOTO_SECOND_LOOK_SCORE
    ) {
      for (const border of PHOTO_SECOND_LOOK_PADDINGS) {
        detections = (await this.pass(image, border, PHOTO_SECOND_LOOK_SCORE, size)).filter(
          (d) => greyContrast(image, d.corners) >= MIN_SECOND_LOOK_CONTRAST,
        );
        if (detections.length > 0) break;
      }
    }
    const found: { detection: RawDetection; box: [number, number, number, number] }[] = [];
    for (const detection of detections) {
      const [x1, y1, x2, y2] = detection.corners;
      const box: [number, number, number, number] = [
        Math.max(0, x1),
        Math.max(0, y1),
        Math.min(image.width, x2) - Math.max(0, x1),
        Math.min(image.height, y2) - Math.max(0, y1),
      ];
      if (box[2] > 1 && box[3] > 1) found.push({ detection, box });
    }
    if (!this.landmarkModel) {
      return found.map(({ detection, box }) => ({
        box,
        score: detection.score,
        landmarks: detection.landmarks,
        keypoints: keypointsFrom5(detection.landmarks),
      }));
    }
    const landmarks = await this.landmarks68(
      image,
      found.map((f) => f.box),
    );
    return found.map(({ detection, box }, i) => {
      const points = landmarks[i] as Point[];
      return { box, score: detection.score, landmarks: points, keypoints: keypointsFrom68(points) };
    });
  }

  /** One detector run with `padding` border; corners mapped back to image pixels, after NMS. */
  private async pass(
    image: RgbImage,
    padding: number,
    threshold: number,
    size: readonly [number, number] = this.manifest.inputSize,
  ): Promise<RawDetection[]> {
    const border = Math.round(padding * Math.max(image.width, image.height));
    const canvasWidth = image.width + 2 * border;
    const canvasHeight = image.height + 2 * border;
    let [inputWidth, inputHeight] = size;
    const scale = Math.min(
      inputWidth / canvasWidth,
      inputHeight / canvasHeight,
      this.manifest.maxUpscale ?? Number.POSITIVE_INFINITY,
    );
    if (this.manifest.dynamicInput) {
      // A dynamic-input model gets the canvas's own aspect (multiples of the coarsest stride, at
      // most 32): a 16:9 frame costs 640x384 instead of 640x640 (SCRFD), 512x288 instead of 512x512
      // (SSD).
      const multiple = Math.min(32, Math.max(...(this.manifest.strides ?? [32])));
      inputWidth = Math.max(multiple, Math.ceil((canvasWidth * scale) / multiple) * multiple);
      inputHeight = Math.max(multiple, Math.ceil((canvasHeight * scale) / multiple) * multiple);
    }
    const left = border * scale;
    const top = border * scale;
    const pixels = warpAffine(image, placementInverse(scale, left, top), inputWidth, inputHeight);
    const outputs = await this.model.runImages(
      [pixels],
      {
        width: inputWidth,
        height: inputHeight,
        normalisation: this.manifest.normalisation,
        name: this.manifest.input,
      },
      this.manifest.outputs,
    );
    const raw =
      this.manifest.kind === 'scrfd'
        ? decodeScrfd(outputs, this.manifest, inputWidth, inputHeight, threshold)
        : this.manifest.kind === 'ssd-mobilenetv1'
          ? decodeSsd(outputs, this.manifest, inputWidth, inputHeight, threshold)
          : this.manifest.kind === 'rfb'
            ? decodeRfb(outputs, this.manifest, inputWidth, inputHeight, threshold)
            : unsupported(this.manifest.kind);
    const toImage = (p: Point): Point => [(p[0] - left) / scale, (p[1] - top) / scale];
    return nonMaximumSuppression(raw, this.manifest.nmsIoU, { nested: this.manifest.kind === 'rfb' }).map(
      (d) => {
        const [x1, y1] = toImage([d.corners[0], d.corners[1]]);
        const [x2, y2] = toImage([d.corners[2], d.corners[3]]);
        return { corners: [x1, y1, x2, y2], score: d.score, landmarks: d.landmarks.map(toImage) };
      },
    );
  }

  /**
   * face-api's landmark step, every face of the image in one batched call: each face box cut out
   * (whole pixels), centred on a black square, resized to the net's input; the net gives 68 points
   * relative to that square.
   */
  private async landmarks68(
    image: RgbImage,
    boxes: readonly [number, number, number, number][],
  ): Promise<Point[][]> {
    if (boxes.length === 0) return [];
    const manifest = this.landmarkManifest as LandmarkManifest;
    const model = this.landmarkModel as OnnxModel;
    const size = manifest.inputSize;
    const squares = boxes.map((box) => {
      const x = Math.round(box[0]);
      const y = Math.round(box[1]);
      const width = Math.max(1, Math.min(image.width - x, Math.round(box[2])));
      const height = Math.max(1, Math.min(image.height - y, Math.round(box[3])));
      const side = Math.max(width, height);
      return { x, y, width, height, side, padX: (side - width) / 2, padY: (side - height) / 2 };
    });
    const crops = squares.map(({ x, y, width, height, side, padX, padY }) => {
      const cut: Affine = [1, 0, x, 0, 1, y];
      const face = { data: warpAffine(image, cut, width, height), width, height };
      const scale = size / side;
      const square = warpAffine(face, placementInverse(scale, padX * scale, padY * scale), size, size);
      face.data.fill(0);
      return square;
    });
    // A model whose file fixes the batch axis (at 1) gets one face a call.
    const batchAxis = model.inputShape()[0];
    const batch = typeof batchAxis === 'number' && batchAxis > 0 ? batchAxis : crops.length;
    const outputName = manifest.output ?? model.outputNames[0] ?? 'landmarks';
    const points: Point[][] = [];
    for (let start = 0; start < crops.length; start += batch) {
      const chunk = crops.slice(start, start + batch);
      const output = (
        await model.runImages(
          chunk,
          { width: size, height: size, normalisation: manifest.normalisation, name: manifest.input },
          [outputName],
        )
      )[outputName];
      for (const square of chunk) square.fill(0);
      if (!output || output.data.length < 136 * chunk.length) {
        throw new ModelError('the landmark model gave fewer than 68 points a face');
      }
      const stride = output.data.length / chunk.length;
      for (let n = 0; n < chunk.length; n++) {
        const { x, y, side, padX, padY } = squares[start + n] as (typeof squares)[number];
        const face: Point[] = [];
        for (let i = 0; i < 68; i++) {
          face.push([
            x + (output.data[n * stride + 2 * i] as number) * side - padX,
            y + (output.data[n * stride + 2 * i + 1] as number) * side - padY,
          ]);
        }
        points.push(face);
      }
    }
    // Face pixels: zeroed once the net has read them, as the embedder's crops are once embedded.
    for (const crop of crops) crop.fill(0);
    return points;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
    await this.landmarkModel?.dispose();
  }
}

/**
 * Whether two [x1, y1, x2, y2] boxes from different looks are one face: they overlap by a third,
 * or one's centre lies in the other (the same face framed tighter by one look).
 */
function sameFace(a: readonly number[], b: readonly number[]): boolean {
  const inside = (p: readonly number[], q: readonly number[]) => {
    const cx = ((p[0] as number) + (p[2] as number)) / 2;
    const cy = ((p[1] as number) + (p[3] as number)) / 2;
    return (
      cx >= (q[0] as number) && cx <= (q[2] as number) && cy >= (q[1] as number) && cy <= (q[3] as number)
    );
  };
  return iou(a, b) >= 1 / 3 || inside(a, b) || inside(b, a);
}

/**
 * Standard deviation of the grey level over a grid of CONTRAST_SAMPLES x CONTRAST_SAMPLES pixels in
 * the [x1, y1, x2, y2] box (clipped to the image); 0 for a box outside it.
 */
export function greyContrast(image: RgbImage, corners: readonly number[]): number {
  const x1 = Math.max(0, Math.floor(corners[0] as number));
  const y1 = Math.max(0, Math.floor(corners[1] as number));
  const x2 = Math.min(image.width, Math.ceil(corners[2] as number));
  const y2 = Math.min(image.height, Math.ceil(corners[3] as number));
  if (x2 <= x1 || y2 <= y1) return 0;
  let sum = 0;
  let squares = 0;
  let n = 0;
  for (let j = 0; j < CONTRAST_SAMPLES; j++) {
    const y = y1 + Math.floor(((j + 0.5) * (y2 - y1)) / CONTRAST_SAMPLES);
    for (let i = 0; i < CONTRAST_SAMPLES; i++) {
      const x = x1 + Math.floor(((i + 0.5) * (x2 - x1)) / CONTRAST_SAMPLES);
      const o = (y * image.width + x) * 3;
      const grey =
        0.299 * (image.data[o] as number) +
        0.587 * (image.data[o + 1] as number) +
        0.114 * (image.data[o + 2] as number);
      sum += grey;
      squares += grey * grey;
      n++;
    }
  }
  const mean = sum / n;
  return Math.sqrt(Math.max(0, squares / n - mean * mean));
}

function unsupported(kind: string): never {
  throw new ModelError(`detector kind ${kind} has no decoder in this version`);
}
