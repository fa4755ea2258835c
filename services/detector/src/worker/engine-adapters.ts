import type { FaceEngine } from '../face-engine.service.js';
import { type CropEmbedder, type FrameAnalyser, VIDEO_FRAME } from './frame-analyser.js';

/** A FaceEngine in this thread as the detector worker's analyser (separate processes, tests). */
export function engineAnalyser(engine: FaceEngine): FrameAnalyser {
  return { cropSize: engine.cropSize, analyse: (jpeg) => engine.detect(jpeg, VIDEO_FRAME) };
}

/** A FaceEngine in this thread as the embedder worker's embedder. */
export function engineEmbedder(engine: FaceEngine): CropEmbedder {
  return {
    modelId: engine.profile.modelId,
    cropSize: engine.cropSize,
    embed: (crops) => engine.embed(crops),
  };
}
