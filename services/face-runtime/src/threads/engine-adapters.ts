import type { FaceEngine } from '../engine/face-engine.service.js';
import { measureInference } from '../onnx/onnx-session.js';
import { type CropEmbedder, type FrameAnalyser, type FrameAnalysis, VIDEO_FRAME } from './frame-analyser.js';

/** Detects the faces of a video frame, with the seconds its model calls took. */
export async function analyseFrame(engine: FaceEngine, jpeg: Uint8Array): Promise<FrameAnalysis> {
  const { result, seconds } = await measureInference(() => engine.detect(jpeg, VIDEO_FRAME));
  return { width: result.width, height: result.height, faces: result.faces, inferenceSeconds: seconds };
}

/** A FaceEngine in this thread as the detector worker's analyser (separate processes, tests). */
export function engineAnalyser(engine: FaceEngine): FrameAnalyser {
  return { cropSize: engine.cropSize, analyse: (jpeg) => analyseFrame(engine, jpeg) };
}

/** A FaceEngine in this thread as the embedder worker's embedder. */
export function engineEmbedder(engine: FaceEngine): CropEmbedder {
  return {
    modelId: engine.profile.modelId,
    cropSize: engine.cropSize,
    embed: (crops) => engine.embed(crops),
  };
}
