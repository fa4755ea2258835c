import type { Point } from '@vigil/core';
import {
  type Affine,
  FaceDetector,
  FaceEngine,
  type FaceEngineOptions,
  invertAffine,
  OnnxModel,
  similarityTransform,
  VIDEO_FRAME,
  warpAffine,
} from '@vigil/face-runtime';
import type { StageTimes } from './faceapi-reference.js';

/**
 * Vigil's runtime timed stage by stage through its public API, on frames as the live pipeline
 * takes them (VIDEO_FRAME): `FaceEngine.decode`, `FaceDetector.detect` (the detector and, for the
 * default profile, the 68-point landmark net),
 * the 5-point similarity alignment, and the batched `FaceEngine.embed`. The landmark net is also
 * run on its own so its share can be moved from "detect" to "landmarks + align".
 */
export class VigilStages {
  private constructor(
    readonly engine: FaceEngine,
    private readonly detector: FaceDetector,
    private readonly landmarkModel: OnnxModel | undefined,
  ) {}

  static async load(options: FaceEngineOptions): Promise<VigilStages> {
    const engine = await FaceEngine.load(options);
    const session = { executionProvider: options.executionProvider, threads: options.threads };
    const detector = await FaceDetector.load(engine.profile, session);
    const landmarkModel = engine.profile.landmarks
      ? await OnnxModel.open(engine.profile.landmarks.file, session)
      : undefined;
    return new VigilStages(engine, detector, landmarkModel);
  }

  /** One frame, each stage timed. */
  async run(jpeg: Uint8Array): Promise<StageTimes> {
    let started = performance.now();
    const image = await this.engine.decode(jpeg);
    const decode = performance.now() - started;

    started = performance.now();
    const candidates = await this.detector.detect(image, VIDEO_FRAME);
    const detectWithLandmarks = performance.now() - started;

    let landmarkNet = 0;
    const landmarks = this.engine.profile.landmarks;
    if (this.landmarkModel && landmarks) {
      started = performance.now();
      const size = landmarks.inputSize;
      // Each face box centred on a square, resized to the net's input; every face of the frame in
      // one call (as the detector feeds them).
      const squares = candidates.map((candidate) => {
        const [x, y, w, h] = candidate.box;
        const side = Math.max(w, h);
        const step = side / size;
        const toImage: Affine = [step, 0, x - (side - w) / 2, 0, step, y - (side - h) / 2];
        return warpAffine(image, toImage, size, size);
      });
      if (squares.length > 0) {
        await this.landmarkModel.runImages(squares, {
          width: size,
          height: size,
          normalisation: landmarks.normalisation,
          name: landmarks.input,
        });
      }
      landmarkNet = performance.now() - started;
    }

    started = performance.now();
    const [width, height] = this.engine.cropSize;
    const template = this.engine.profile.embedder.template as Point[];
    const crops = candidates.map((candidate) =>
      warpAffine(image, invertAffine(similarityTransform(candidate.keypoints, template)), width, height),
    );
    const align = performance.now() - started;

    started = performance.now();
    if (crops.length > 0) await this.engine.embed(crops);
    const embed = performance.now() - started;
    return {
      decode,
      detect: Math.max(0, detectWithLandmarks - landmarkNet),
      landmarksAlign: landmarkNet + align,
      embed,
      faces: candidates.length,
    };
  }

  /** The whole runtime as the pipeline calls it: decode, then `analyse` (detect, align, embed). */
  async whole(jpeg: Uint8Array): Promise<number> {
    const started = performance.now();
    await this.engine.analyse(await this.engine.decode(jpeg), VIDEO_FRAME);
    return performance.now() - started;
  }

  async dispose(): Promise<void> {
    await this.engine.dispose();
    await this.detector.dispose();
    await this.landmarkModel?.dispose();
  }
}
