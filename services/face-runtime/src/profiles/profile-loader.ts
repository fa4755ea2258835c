import fs from 'node:fs';
import path from 'node:path';
import { ModelError } from '../onnx/model.errors.js';
import type { ModelProfile } from './manifest.js';
import { insightfaceProfile, loadProfile } from './profile.js';

/** File names of the bring-your-own insightface models the `insightface` profile looks for. */
export const INSIGHTFACE_FILES = {
  detector: 'scrfd_500m_bnkps.onnx',
  embedder: 'mobilefacenet_128.onnx',
} as const;

/**
 * Cosine threshold of SCRFD-500M + MobileFaceNet-128: the full 10-fold LFW protocol (6,000 pairs)
 * chose 0.281 at 99.32% accuracy; see services/detector/README.md.
 */
export const INSIGHTFACE_MOBILEFACENET_THRESHOLD = 0.28;

/**
 * Resolves what `--model` / VIGIL_MODEL_PROFILE names: `default` (the converted face-api models,
 * each face embedded from its crop and two jitter views; `accurate` is an earlier name for it),
 * `fast` (the same models, the crop and its mirror only), `insightface` (SCRFD-500M +
 * MobileFaceNet-128 in `modelsDir`), a folder holding `profile.json`, or a profile JSON path.
 */
export function resolveProfile(nameOrPath: string, options: { modelsDir?: string } = {}): ModelProfile {
  if (nameOrPath === 'insightface') {
    const dir = options.modelsDir ?? process.env.VIGIL_MODELS_DIR;
    if (!dir)
      throw new ModelError(
        'the insightface profile needs VIGIL_MODELS_DIR (the folder holding its ONNX files)',
      );
    const detectorFile = path.join(dir, INSIGHTFACE_FILES.detector);
    const embedderFile = path.join(dir, INSIGHTFACE_FILES.embedder);
    for (const file of [detectorFile, embedderFile]) {
      if (!fs.existsSync(file)) throw new ModelError(`the insightface profile needs ${file}`);
    }
    return insightfaceProfile({ detectorFile, embedderFile, threshold: INSIGHTFACE_MOBILEFACENET_THRESHOLD });
  }
  return loadProfile(nameOrPath);
}
