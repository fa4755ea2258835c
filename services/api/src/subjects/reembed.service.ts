import {
  AuditRepository,
  type Database,
  type DataCipher,
  isVigilError,
  referenceImageContext,
  storedTemplate,
  type TemplateKeys,
  toVectorParam,
} from '@vigil/core';
import { assessEnrolmentImage } from '@vigil/face-runtime';
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
  db: Database;
  cipher: DataCipher;
  engine: EnrolmentEngine;
  /** Rotates the new templates as enrolment does; without it they are stored in the clear (tests). */
  templates?: TemplateKeys;
  actorName?: string;
  onProgress?: (done: number, total: number) => void;
}): Promise<ReembedResult> {
  const { db, cipher, engine } = options;
  const model = engine.profile.modelId;
  const { rows: done } = await db.query<{ n: string | number }>(
    'SELECT count(DISTINCT reference_image_id) AS n FROM embeddings WHERE model = $1',
    [model],
  );
  const { rows: pending } = await db.query<{ id: string; subject_id: string }>(
    `SELECT ri.id, ri.subject_id FROM reference_images ri
      WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.reference_image_id = ri.id AND e.model = $1)
      ORDER BY ri.created_at, ri.id`,
    [model],
  );
  const result: ReembedResult = { model, embedded: 0, alreadyEmbedded: Number(done[0]?.n ?? 0), failed: [] };
  for (const [index, image] of pending.entries()) {
    const fail = (code: string, message: string) =>
      result.failed.push({ referenceImageId: image.id, subjectId: image.subject_id, code, message });
    // Fetched one at a time: a watchlist of thousands never sits decrypted in memory at once.
    const { rows } = await db.query<{ encrypted_data: Uint8Array; content_hash: string }>(
      'SELECT encrypted_data, content_hash FROM reference_images WHERE id = $1',
      [image.id],
    );
    const sealed = rows[0]?.encrypted_data;
    const context = referenceImageContext(image.subject_id, rows[0]?.content_hash ?? '');
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
        const stored = storedTemplate(options.templates?.current, verdict.face.embedding);
        const inserted = await db.query(
          `INSERT INTO embeddings (reference_image_id, subject_id, model, embedding, template_key_id)
           SELECT id, subject_id, $2, $3::vector, $4 FROM reference_images WHERE id = $1
           ON CONFLICT (reference_image_id, model) DO NOTHING`,
          [image.id, model, toVectorParam(stored.vector), stored.keyId],
        );
        if (stored.keyId) stored.vector.fill(0);
        if (inserted.rowCount > 0) result.embedded += 1;
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
  await new AuditRepository(db).append({
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
