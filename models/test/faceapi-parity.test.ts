import path from 'node:path';
import type { ModelProfile } from '@vigil/face-runtime';
import {
  DEFAULT_MODEL_FILES,
  DEFAULT_PROFILE_DIR,
  FACEAPI_FACE_NORMALISATION,
  loadProfile,
  ssdAnchors,
} from '@vigil/face-runtime';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDefaultProfile } from '../src/build.js';
import {
  decodePhoto,
  type FaceApi,
  loadFaceApi,
  samplePhotos,
  type TfTensor,
  toNchw,
} from './faceapi-reference.js';

/** Parity targets from issue 3: box IoU, landmark error as a fraction of the crop, descriptor cosine. */
const MIN_BOX_IOU = 0.95;
const MAX_LANDMARK_ERROR = 0.01;
const MIN_DESCRIPTOR_COSINE = 0.999;
/**
 * dlib's float weights against face-api's uint8 copy of them (and dlib's /256 input scaling against
 * face-api's /255): measured min 0.99942, mean 0.99957 on the 22 sample faces, so the bar holds.
 */
const MIN_DLIB_FACEAPI_COSINE = MIN_DESCRIPTOR_COSINE;

interface Face {
  /** [top, left, bottom, right] in 0..1 of the 512x512 detector input. */
  box: [number, number, number, number];
  score: number;
}

interface Photo {
  file: string;
  image: TfTensor;
  /** The 512x512 detector input both implementations see. */
  detectorInput: TfTensor;
  reference: Face[];
}

function iou(a: Face['box'], b: Face['box']): number {
  const h = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const w = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = h * w;
  const area = (r: Face['box']) => (r[2] - r[0]) * (r[3] - r[1]);
  return inter / (area(a) + area(b) - inter);
}

/** Greedy NMS as face-api's locateFaces does it (IoU 0.5, score > 0.5, boxes clipped to 0..1). */
function decodeFaces(boxes: Float32Array, scores: Float32Array, minScore: number, maxIoU: number): Face[] {
  const candidates = Array.from(scores, (score, i) => ({ score, i }))
    .filter((c) => c.score > minScore)
    .sort((a, b) => b.score - a.score);
  const kept: Face[] = [];
  for (const { score, i } of candidates) {
    const box = [0, 1, 2, 3].map((k) => Math.min(1, Math.max(0, boxes[i * 4 + k] as number))) as Face['box'];
    const raw = [0, 1, 2, 3].map((k) => boxes[i * 4 + k] as number) as Face['box'];
    if (kept.some((f) => iou(f.box, raw) > maxIoU)) continue;
    kept.push({ box, score });
  }
  return kept.map((f) => ({ box: f.box, score: f.score }));
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe('converted face-api models match @vladmandic/face-api on TFJS (sample photos)', () => {
  let faceapi: FaceApi;
  let profile: ModelProfile;
  const sessions: Record<
    'detector' | 'detectorInt8' | 'landmarks' | 'embedder' | 'dlibEmbedder' | 'dlibEmbedderInt8',
    ort.InferenceSession
  > = {} as never;
  const photos: Photo[] = [];

  beforeAll(async () => {
    await buildDefaultProfile();
    profile = loadProfile('dlib');
    const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2 };
    // The float model is the converter's output and must match face-api; the profile's int8 build
    // of it is checked against face-api too, with the tolerance quantization needs.
    sessions.detector = await ort.InferenceSession.create(
      path.join(DEFAULT_PROFILE_DIR, DEFAULT_MODEL_FILES.detector),
      options,
    );
    sessions.detectorInt8 = await ort.InferenceSession.create(profile.detector.file, options);
    sessions.landmarks = await ort.InferenceSession.create(profile.landmarks?.file ?? '', options);
    sessions.embedder = await ort.InferenceSession.create(
      path.join(DEFAULT_PROFILE_DIR, DEFAULT_MODEL_FILES.embedder),
      options,
    );
    sessions.dlibEmbedder = await ort.InferenceSession.create(
      path.join(DEFAULT_PROFILE_DIR, DEFAULT_MODEL_FILES.dlibEmbedder),
      options,
    );
    sessions.dlibEmbedderInt8 = await ort.InferenceSession.create(profile.embedder.file, options);
    faceapi = await loadFaceApi();
    const tf = faceapi.tf;
    for (const file of samplePhotos()) {
      const image = await decodePhoto(faceapi, file);
      // face-api's toBatchTensor(512, false): pad right/bottom to a square, bilinear resize to 512.
      const detectorInput = tf.tidy(() =>
        tf.image.resizeBilinear(faceapi.padToSquare(image.expandDims(0), false), [512, 512]).squeeze([0]),
      );
      const detections = await faceapi.nets.ssdMobilenetv1.locateFaces(detectorInput, {
        minConfidence: profile.detector.scoreThreshold,
      });
      const reference = detections.map((d: FaceApi) => ({
        box: [d.relativeBox.top, d.relativeBox.left, d.relativeBox.bottom, d.relativeBox.right],
        score: d.score,
      }));
      photos.push({ file, image, detectorInput, reference });
    }
  });

  afterAll(async () => {
    for (const photo of photos) {
      photo.image.dispose();
      photo.detectorInput.dispose();
    }
    await Promise.all(Object.values(sessions).map((s) => s.release()));
  });

  it('finds the sample photos faces with the reference (so the comparisons below compare something)', () => {
    const counts = photos.map((p) => p.reference.length);
    expect(counts.every((n) => n >= 1)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(8);
  });

  /** Our model on the first `height` rows and `width` columns of an NCHW 512x512 input. */
  async function detectOn(
    nchw: Float32Array,
    width: number,
    height: number,
    session = sessions.detector,
  ): Promise<Face[]> {
    const data = new Float32Array(3 * width * height);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < height; y++)
        data.set(
          nchw.subarray(c * 512 * 512 + y * 512, c * 512 * 512 + y * 512 + width),
          (c * height + y) * width,
        );
    const out = await session.run({ input: new ort.Tensor('float32', data, [1, 3, height, width]) });
    const encodings = out.encodings?.data as Float32Array;
    const scores = out.scores?.data as Float32Array;
    const { strides, anchorSizes } = profile.detector;
    const anchors = ssdAnchors(strides ?? [], anchorSizes ?? [], width, height);
    expect(encodings.length).toBe(anchors.length);
    // face-api's outputLayer, in 0..1 of its 512x512 input: (y1, x1, y2, x2).
    const boxes = new Float32Array(encodings.length);
    for (let i = 0; i < encodings.length; i += 4) {
      const [cx, cy, w, h] = [0, 1, 2, 3].map((k) => anchors[i + k] as number) as [
        number,
        number,
        number,
        number,
      ];
      const y = ((encodings[i] as number) / 10) * h + cy;
      const x = ((encodings[i + 1] as number) / 10) * w + cx;
      const halfH = (Math.exp((encodings[i + 2] as number) / 5) * h) / 2;
      const halfW = (Math.exp((encodings[i + 3] as number) / 5) * w) / 2;
      boxes.set([(y - halfH) / 512, (x - halfW) / 512, (y + halfH) / 512, (x + halfW) / 512], i);
    }
    return decodeFaces(boxes, scores, profile.detector.scoreThreshold, profile.detector.nmsIoU);
  }

  function expectSameFaces(faces: Face[], photo: Photo, minIou = MIN_BOX_IOU, maxScoreGap = 0.01): void {
    expect(faces.length, photo.file).toBe(photo.reference.length);
    for (const ref of photo.reference) {
      const best = Math.max(...faces.map((f) => iou(f.box, ref.box)));
      expect(best, photo.file).toBeGreaterThanOrEqual(minIou);
      const match = faces.find((f) => iou(f.box, ref.box) === best) as Face;
      expect(Math.abs(match.score - ref.score), photo.file).toBeLessThan(maxScoreGap);
    }
  }

  it('detector: same faces, every box IoU >= 0.95 and scores within 0.01 of face-api', async () => {
    const { mean, std } = profile.detector.normalisation;
    for (const photo of photos) {
      const pixels = (await photo.detectorInput.data()) as Float32Array;
      expectSameFaces(await detectOn(toNchw(pixels, 512, mean, std), 512, 512), photo);
    }
  });

  it('detector: the letterbox cut to the photo (e.g. 512x384) finds the same faces as face-api on 512x512', async () => {
    const { mean, std } = profile.detector.normalisation;
    let cut = 0;
    for (const photo of photos) {
      const [height, width] = photo.image.shape as [number, number];
      const side = Math.max(width, height);
      const inputWidth = Math.min(512, Math.ceil((512 * width) / side / 32) * 32);
      const inputHeight = Math.min(512, Math.ceil((512 * height) / side / 32) * 32);
      if (inputWidth * inputHeight < 512 * 512) cut += 1;
      const pixels = (await photo.detectorInput.data()) as Float32Array;
      expectSameFaces(await detectOn(toNchw(pixels, 512, mean, std), inputWidth, inputHeight), photo);
    }
    expect(cut).toBeGreaterThan(0);
  });

  it("detector, int8 build (the profile's): the same faces as face-api, box IoU >= 0.85, scores within 0.15", async () => {
    const { mean, std } = profile.detector.normalisation;
    expect(profile.detector.file).toMatch(/int8/);
    for (const photo of photos) {
      const pixels = (await photo.detectorInput.data()) as Float32Array;
      const faces = await detectOn(toNchw(pixels, 512, mean, std), 512, 512, sessions.detectorInt8);
      expectSameFaces(faces, photo, 0.85, 0.15);
    }
  });

  /** Each reference face cropped from the photo as face-api does, padded square (centred) and resized. */
  function faceCrops(photo: Photo, size: number): TfTensor[] {
    const tf = faceapi.tf;
    const [height, width] = photo.image.shape;
    const side = Math.max(height, width);
    return photo.reference.map((face) =>
      tf.tidy(() => {
        const top = Math.max(0, Math.round(face.box[0] * side));
        const left = Math.max(0, Math.round(face.box[1] * side));
        const bottom = Math.min(height, Math.round(face.box[2] * side));
        const right = Math.min(width, Math.round(face.box[3] * side));
        const crop = tf.slice(photo.image, [top, left, 0], [bottom - top, right - left, 3]);
        const square = faceapi.padToSquare(crop.expandDims(0), true);
        return tf.image.resizeBilinear(square, [size, size]).squeeze([0]);
      }),
    );
  }

  it('landmarks: all 68 points within 1% of the crop of face-api, in one batched call', async () => {
    const manifest = profile.landmarks;
    if (!manifest) throw new Error('default profile has no landmark model');
    for (const photo of photos) {
      const crops = faceCrops(photo, 112);
      const data = new Float32Array(crops.length * 3 * 112 * 112);
      for (const [i, crop] of crops.entries()) {
        data.set(
          toNchw(
            (await crop.data()) as Float32Array,
            112,
            manifest.normalisation.mean,
            manifest.normalisation.std,
          ),
          i * 3 * 112 * 112,
        );
      }
      const out = await sessions.landmarks.run({
        input: new ort.Tensor('float32', data, [crops.length, 3, 112, 112]),
      });
      const landmarks = out.landmarks?.data as Float32Array;
      for (const [i, crop] of crops.entries()) {
        const reference = (await faceapi.nets.faceLandmark68Net.detectLandmarks(crop)).relativePositions;
        for (let p = 0; p < 68; p++) {
          expect(Math.abs((landmarks[i * 136 + p * 2] as number) - reference[p].x)).toBeLessThan(
            MAX_LANDMARK_ERROR,
          );
          expect(Math.abs((landmarks[i * 136 + p * 2 + 1] as number) - reference[p].y)).toBeLessThan(
            MAX_LANDMARK_ERROR,
          );
        }
        crop.dispose();
      }
    }
  });

  /** Every sample face's descriptor from `model`, fed face-api's own crops (box padded to a square). */
  async function descriptors(model: keyof typeof sessions, scaling: { mean: number[]; std: number[] }) {
    const vectors: Float32Array[] = [];
    for (const photo of photos) {
      const crops = faceCrops(photo, 150);
      const data = new Float32Array(crops.length * 3 * 150 * 150);
      for (const [i, crop] of crops.entries()) {
        data.set(
          toNchw((await crop.data()) as Float32Array, 150, scaling.mean, scaling.std),
          i * 3 * 150 * 150,
        );
        crop.dispose();
      }
      // Several faces in one batched call.
      const out = await sessions[model].run({
        input: new ort.Tensor('float32', data, [crops.length, 3, 150, 150]),
      });
      expect(out.embedding?.dims).toEqual([crops.length, 128]);
      const embeddings = out.embedding?.data as Float32Array;
      for (let i = 0; i < crops.length; i++) vectors.push(embeddings.slice(i * 128, (i + 1) * 128));
    }
    return vectors;
  }

  async function faceApiDescriptors(): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (const photo of photos) {
      for (const crop of faceCrops(photo, 150)) {
        vectors.push((await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(crop)) as Float32Array);
        crop.dispose();
      }
    }
    return vectors;
  }

  it('descriptor, converted from face-api: cosine >= 0.999 with face-api for every face, in one batched call', async () => {
    const ours = await descriptors('embedder', FACEAPI_FACE_NORMALISATION);
    const reference = await faceApiDescriptors();
    expect(ours).toHaveLength(reference.length);
    for (const [i, mine] of ours.entries()) {
      expect(cosine(mine, reference[i] as Float32Array), `face ${i}`).toBeGreaterThanOrEqual(
        MIN_DESCRIPTOR_COSINE,
      );
    }
    // Different people must not collapse onto one vector: the faces of sample photos differ.
    expect(cosine(ours[0] as Float32Array, ours[ours.length - 1] as Float32Array)).toBeLessThan(0.95);
  });

  it("descriptor from dlib's float weights: face-api's vectors up to face-api's uint8 weights, and different from them", async () => {
    const dlib = await descriptors('dlibEmbedder', profile.embedder.normalisation);
    const reference = await faceApiDescriptors();
    const similarities = dlib.map((mine, i) => cosine(mine, reference[i] as Float32Array));
    for (const similarity of similarities) expect(similarity).toBeGreaterThanOrEqual(MIN_DLIB_FACEAPI_COSINE);
    // Not the face-api weights under another name: the float weights move every vector a little.
    expect(Math.min(...similarities)).toBeLessThan(0.9999);
  });

  it("descriptor, int8 build of dlib's weights (the profile's): cosine >= 0.999 with the float model for every face", async () => {
    expect(profile.embedder.file).toMatch(/dlib_face_recognition_int8/);
    // face-api's own crops: not the aligned crops the int8 build was calibrated on.
    const int8 = await descriptors('dlibEmbedderInt8', profile.embedder.normalisation);
    const float = await descriptors('dlibEmbedder', profile.embedder.normalisation);
    for (const [i, mine] of int8.entries()) {
      expect(cosine(mine, float[i] as Float32Array), `face ${i}`).toBeGreaterThanOrEqual(
        MIN_DESCRIPTOR_COSINE,
      );
    }
  });
});
