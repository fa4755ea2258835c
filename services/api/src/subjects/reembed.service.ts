import {
  type DataCipher,
  isVigilError,
  referenceImageContext,
  storedTemplate,
  type TemplateKeys,
} from '@vigil/core';
import { assessEnrolmentImage } from '@vigil/face-runtime';
import type { Repositories } from '../repositories.js';
import type { EnrolmentEngine } from './enrolment.service.js';

/** A stored reference image that could not be embedded under the new model. */
export interface ReembedFailure {
  referenceImageId: string;
  subjectId: string;
  /** An enrolment code (`no_face`, `low_quality`, ...), `unsupported_image` or `decryption_failed`. */
  code: string;
  message: string;
}

/** What one run did. */
export interface ReembedResult {
  model: string;
  /** Reference images given an embedding of `model` by this run. */
  embedded: number;
  /** Reference images that had one already. */
  alreadyEmbedded: number;
  failed: ReembedFailure[];
}

/**
 * Embeds the stored reference images again under the engine's model profile, so that a new model
 * (a new `modelId`) does not mean uploading every wanted person's photo again: each reference image
 * without an embedding of that model is decrypted, analysed and checked exactly as enrolment checks
 * an upload, and its embedding is added beside the other models' (kept for deployments created
 * under them). One image at a time, each insert on its own: a run cut short is finished by the next
 * one, and a second run finds nothing to do. Images that no longer pass are reported with their
 * enrolment code, never deleted. Decrypted bytes, crops and embeddings are zeroed once used; one
 * audit entry records the counts.
 */
export async function reembedReferenceImages(options: {
  repositories: Pick<Repositories, 'reembedding' | 'audit'>;
  cipher: DataCipher;
  engine: EnrolmentEngine;
  /** Rotates the new templates as enrolment does; without it they are stored in the clear (tests). */
  templates?: TemplateKeys;
  actorName?: string;
  onProgress?: (done: number, total: number) => void;
}): Promise<ReembedResult> {
  const { repositories, cipher, engine } = options;
  const images = repositories.reembedding;
  const model = engine.profile.modelId;
  const done = await images.embeddedCount(model);
  const pending = await images.withoutEmbedding(model);
  const result: ReembedResult = { model, embedded: 0, alreadyEmbedded: done, failed: [] };
  for (const [index, image] of pending.entries()) {
    const fail = (code: string, message: string) =>
      result.failed.push({ referenceImageId: image.id, subjectId: image.subjectId, code, message });
    // Fetched one at a time: a watchlist of thousands never sits decrypted in memory at once.
    const stored = await images.sealedImage(image.id);
    const sealed = stored?.sealed;
    const context = referenceImageContext(image.subjectId, stored?.contentHash ?? '');
    options.onProgress?.(index + 1, pending.length);
    if (!sealed) continue; // deleted since the list was read
    let bytes: Buffer;
    try {
      bytes = cipher.open(sealed, context);
    } catch (error) {
      fail('decryption_failed', (error as Error).message);
      continue;
    }
    try {
      const analysis = await engine.analyse(bytes, { maxFaces: 5 });
      const verdict = assessEnrolmentImage(analysis);
      if (!verdict.ok) {
        fail(verdict.code, verdict.message);
      } else if (verdict.face.embedding) {
        const template = storedTemplate(options.templates?.current, verdict.face.embedding);
        const inserted = await images.addEmbedding(image.id, model, template.vector, template.keyId);
        if (template.keyId) template.vector.fill(0);
        if (inserted) result.embedded += 1;
        else result.alreadyEmbedded += 1;
      }
      for (const face of analysis.faces) {
        face.crop.fill(0);
        face.embedding?.fill(0);
      }
    } catch (error) {
      if (!isVigilError(error) || error.status !== 422) throw error;
      fail(error.code, error.message);
    } finally {
      bytes.fill(0);
    }
  }
  await repositories.audit.append({
    actorName: options.actorName ?? 'cli:reembed',
    action: 'embeddings.reembed',
    targetType: 'model',
    targetId: model,
    details: {
      embedded: result.embedded,
      alreadyEmbedded: result.alreadyEmbedded,
      failed: result.failed.length,
    },
  });
  return result;
}
