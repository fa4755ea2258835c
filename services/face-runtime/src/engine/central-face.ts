import type { ImageAnalysis } from './face-engine.service.js';

/**
 * The face nearest the centre of a photo. LFW-style photos are 250x250 crops centred on the labelled
 * person, often with someone else at the edge (FINDINGS.md): the central face is the one the label is about.
 */
export function centralFace(analysis: ImageAnalysis): ImageAnalysis['faces'][number] | undefined {
  const cx = analysis.width / 2;
  const cy = analysis.height / 2;
  let best: ImageAnalysis['faces'][number] | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of analysis.faces) {
    const [x, y, w, h] = candidate.face.box;
    const distance = Math.hypot(x + w / 2 - cx, y + h / 2 - cy);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
