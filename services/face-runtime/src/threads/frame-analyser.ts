import type { DetectedFace } from '@vigil/core';
import type { DetectOptions } from '../detection/face-detector.service.js';

/**
 * How camera frames are detected: one pass, and the padded second pass only for a close-up (a
 * frame with no face, most of them, is not searched twice).
 */
export const VIDEO_FRAME: DetectOptions = { padding: 'closeUps' };

/** The faces and aligned crops of one frame, and what the models took to find them. */
export interface FrameAnalysis {
  width: number;
  height: number;
  faces: { face: DetectedFace; crop: Uint8Array }[];
  /**
   * Seconds the frame spent inside onnxruntime (detector, landmark and second-pass runs summed),
   * for `vigil_model_inference_seconds{stage="detect"}`; absent where the analyser does not measure.
   */
  inferenceSeconds?: number;
}

/** What the detector worker needs from the face runtime: faces and aligned crops of one JPEG frame. */
export interface FrameAnalyser {
  /** Aligned crop size [width, height]. */
  readonly cropSize: [number, number];
  /** Detects and aligns every face of a JPEG frame (no embeddings). */
  analyse(jpeg: Uint8Array): Promise<FrameAnalysis>;
}

/** What the embedder worker needs: batched embeddings of aligned crops, and the model they belong to. */
export interface CropEmbedder {
  /** The profile's modelId: the embedding space the matcher compares within. */
  readonly modelId: string;
  /** The aligned crop [width, height] the model takes; crops of another size are dropped. */
  readonly cropSize?: [number, number];
  embed(crops: readonly Uint8Array[]): Promise<Float32Array[]>;
}
