import { AuditRepository, DataCipher, templateKeys } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import type { FaceEngine } from '@vigil/face-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRepositories } from '../src/repositories.js';
import { reembedReferenceImages } from '../src/subjects/reembed.service.js';
import { blankImage, enrolThroughApi, faceCrop, loadEngine } from './face-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

describe(`re-embedding stored reference images under a new model (${backendName})`, () => {
  let t: TestApp;
  let engine: FaceEngine;
  let subjectIds: string[];
  const cipher = new DataCipher(Buffer.alloc(32, 9));
  /** The same networks under another model id: what a profile upgrade looks like to the database. */
  const NEXT_MODEL = 'test-next-model-v2';
  const nextEngine = () => ({
    analyse: engine.analyse.bind(engine),
    profile: { ...engine.profile, modelId: NEXT_MODEL },
  });

  const embeddingCounts = async () => {
    const { rows } = await t.deps.db.query<{ model: string; n: string | number }>(
      'SELECT model, count(*) AS n FROM embeddings GROUP BY model',
    );
    return Object.fromEntries(rows.map((r) => [r.model, Number(r.n)]));
  };

  beforeAll(async () => {
    engine = await loadEngine();
    t = await createTestApp({ faceEngine: engine, cipher });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/watchlists',
      headers: bearer(t.tokens.watchlist_manager),
      payload: { name: 'Re-embed test', description: 'faces' },
    });
    const watchlistId = created.json().id;
    subjectIds = [];
    for (const [label, files] of [
      ['Subject One', [await faceCrop(1, 0), await faceCrop(3, 1)]],
      ['Subject Two', [await faceCrop(6, 2)]],
    ] as const) {
      subjectIds.push(
        await enrolThroughApi(
          t.app,
          t.tokens.watchlist_manager,
          watchlistId,
          {
            label,
            category: 'wanted',
            priority: 'amber',
          },
          [...files],
        ),
      );
    }
  });
  afterAll(async () => t?.close());

  it('adds an embedding of the new model for every stored image, keeps the old ones, and audits the run', async () => {
    const before = await embeddingCounts();
    expect(before).toEqual({ [engine.profile.modelId]: 3 });
    const result = await reembedReferenceImages({
      repositories: createRepositories(t.deps.db),
      cipher,
      engine: nextEngine(),
      // The app's template keys, as `vigil reembed` derives them from the same data key.
      templates: templateKeys(cipher),
    });
    expect(result).toEqual({ model: NEXT_MODEL, embedded: 3, alreadyEmbedded: 0, failed: [] });
    expect(await embeddingCounts()).toEqual({ [engine.profile.modelId]: 3, [NEXT_MODEL]: 3 });

    // The new vectors are the images' own: same networks, so each equals its old-model twin.
    const { rows } = await t.deps.db.query<{ same: boolean }>(
      `SELECT (a.embedding <=> b.embedding) < 1e-4 AS same
         FROM embeddings a JOIN embeddings b ON a.reference_image_id = b.reference_image_id
        WHERE a.model = $1 AND b.model = $2`,
      [engine.profile.modelId, NEXT_MODEL],
    );
    expect(rows.map((r) => r.same)).toEqual([true, true, true]);
    const { rows: subjects } = await t.deps.db.query<{ subject_id: string }>(
      'SELECT DISTINCT subject_id FROM embeddings WHERE model = $1',
      [NEXT_MODEL],
    );
    expect(subjects.map((r) => r.subject_id).sort()).toEqual([...subjectIds].sort());

    const audit = await new AuditRepository(t.deps.db).list({ action: 'embeddings.reembed' });
    expect(audit[0]).toMatchObject({
      action: 'embeddings.reembed',
      targetId: NEXT_MODEL,
      details: { embedded: 3, alreadyEmbedded: 0, failed: 0 },
    });
  });

  it('finds nothing to do on a second run', async () => {
    const result = await reembedReferenceImages({
      repositories: createRepositories(t.deps.db),
      cipher,
      engine: nextEngine(),
      // The app's template keys, as `vigil reembed` derives them from the same data key.
      templates: templateKeys(cipher),
    });
    expect(result).toEqual({ model: NEXT_MODEL, embedded: 0, alreadyEmbedded: 3, failed: [] });
    expect(await embeddingCounts()).toEqual({ [engine.profile.modelId]: 3, [NEXT_MODEL]: 3 });
  });

  it('reports, and keeps, an image that no longer passes and one that no key opens', async () => {
    const { rows } = await t.deps.db.query<{ id: string; watchlist_id: string }>(
      'SELECT id, watchlist_id FROM reference_images WHERE subject_id = $1',
      [subjectIds[1]],
    );
    const [image] = rows;
    // A stored image that shows no face under the new model, and one sealed with another key.
    const blank = await t.deps.db.query<{ id: string }>(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, 'blank', 'image/jpeg', 320, 240, '{}'::jsonb, $3) RETURNING id`,
      [subjectIds[1], image?.watchlist_id, cipher.seal(await blankImage())],
    );
    const foreign = await t.deps.db.query<{ id: string }>(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, 'foreign', 'image/jpeg', 320, 240, '{}'::jsonb, $3) RETURNING id`,
      [subjectIds[1], image?.watchlist_id, new DataCipher(Buffer.alloc(32, 1)).seal(await faceCrop(6, 2))],
    );
    const result = await reembedReferenceImages({
      repositories: createRepositories(t.deps.db),
      cipher,
      engine: nextEngine(),
      // The app's template keys, as `vigil reembed` derives them from the same data key.
      templates: templateKeys(cipher),
    });
    expect(result.embedded).toBe(0);
    expect(result.failed).toEqual([
      expect.objectContaining({
        referenceImageId: blank.rows[0]?.id,
        subjectId: subjectIds[1],
        code: 'no_face',
      }),
      expect.objectContaining({ referenceImageId: foreign.rows[0]?.id, code: 'decryption_failed' }),
    ]);
    const { rows: kept } = await t.deps.db.query<{ n: string | number }>(
      'SELECT count(*) AS n FROM reference_images WHERE id = ANY($1::uuid[])',
      [[blank.rows[0]?.id, foreign.rows[0]?.id]],
    );
    expect(Number(kept[0]?.n)).toBe(2);
  });
});
