import { randomBytes } from 'node:crypto';
import {
  type Database,
  fromVectorText,
  storedTemplate,
  TemplateKeyError,
  TemplateKeys,
  toVectorParam,
} from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase } from '@vigil/core/testing';
import { type SnapshotMatch, SnapshotRepository } from '@vigil/matcher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentRepository } from '../src/deployments/deployment.repository.js';

const DIMS = 128;
const SUBJECTS = 40;
const THRESHOLD = 0.5;

function unit(values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values, (x) => x / norm);
}
const gaussian = () =>
  Math.sqrt(-2 * Math.log(Math.random() || 1e-12)) * Math.cos(2 * Math.PI * Math.random());
const randomUnit = () => unit(Array.from({ length: DIMS }, gaussian));
/** Another view of the same face: the template plus noise, as a second photo scores 0.6-0.9. */
const view = (of: Float32Array, noise: number) => unit(Array.from(of, (x) => x + gaussian() * noise));
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
};

async function insertDeployment(db: Database, model: string, watchlistId: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO deployments (name, threshold, model, status) VALUES ($1, $2, $3, 'planned') RETURNING id`,
    [`d-${randomBytes(3).toString('hex')}`, THRESHOLD, model],
  );
  const id = rows[0]?.id as string;
  await db.query('INSERT INTO deployment_watchlists (deployment_id, watchlist_id) VALUES ($1, $2)', [
    id,
    watchlistId,
  ]);
  return id;
}

/** Issue 22 item 7: templates rotated by secret orthogonal matrices, matching unchanged. */
describe(`templates rotated at rest (${backendName})`, () => {
  let t: TestDatabase;
  const templates = new TemplateKeys([randomBytes(32)]);
  const faces: Float32Array[] = [];
  let subjectIds: string[];
  let imageIds: string[];
  let clear: string;
  let protectedId: string;
  let other: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const w = await t.db.query<{ id: string }>(
      `INSERT INTO watchlists (name) VALUES ('rotated') RETURNING id`,
    );
    const watchlistId = w.rows[0]?.id as string;
    subjectIds = [];
    imageIds = [];
    for (let s = 0; s < SUBJECTS; s++) {
      const subject = await t.db.query<{ id: string }>(
        `INSERT INTO subjects (watchlist_id, label, category, priority) VALUES ($1, $2, 'wanted', 'red') RETURNING id`,
        [watchlistId, `subject ${s}`],
      );
      const subjectId = subject.rows[0]?.id as string;
      subjectIds.push(subjectId);
      const face = randomUnit();
      faces.push(face);
      // Two photos each: the store holds every template twice, in the clear (model m-clear, as
      // before) and rotated (m-rotated, as enrolment now writes it).
      for (let photo = 0; photo < 2; photo++) {
        const image = await t.db.query<{ id: string }>(
          `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
           VALUES ($1, $2, $3, 'image/jpeg', 1, 1, '{}', $4) RETURNING id`,
          [subjectId, watchlistId, randomBytes(8).toString('hex'), randomBytes(16)],
        );
        const imageId = image.rows[0]?.id as string;
        imageIds.push(imageId);
        const template = view(face, 0.05);
        const stored = storedTemplate(templates.current, template);
        await t.db.query(
          `INSERT INTO embeddings (reference_image_id, subject_id, model, embedding, template_key_id)
           VALUES ($1, $2, 'm-clear', $3::vector, NULL), ($1, $2, 'm-rotated', $4::vector, $5)`,
          [imageId, subjectId, toVectorParam(template), toVectorParam(stored.vector), stored.keyId],
        );
      }
    }
    clear = await insertDeployment(t.db, 'm-clear', watchlistId);
    protectedId = await insertDeployment(t.db, 'm-rotated', watchlistId);
    other = await insertDeployment(t.db, 'm-rotated', watchlistId);
    const repository = new DeploymentRepository(t.db);
    await repository.freezeSnapshot(clear, 'm-clear', subjectIds);
    await repository.freezeSnapshot(protectedId, 'm-rotated', subjectIds, t.db, templates);
    await repository.freezeSnapshot(other, 'm-rotated', subjectIds, t.db, templates);
    await t.db.query(`UPDATE deployments SET status = 'running'`);
  }, 120_000);
  afterAll(async () => t?.drop());

  it('finds the same subjects in the same order with the same scores, exact and HNSW (measured on 60 probes)', async () => {
    const inClear = new SnapshotRepository(t.db);
    const withKey = new SnapshotRepository(t.db, { templates });
    const probes = [
      ...faces.slice(0, 40).map((face) => view(face, 0.06)),
      ...Array.from({ length: 20 }, randomUnit),
    ];
    let compared = 0;
    let largest = 0;
    for (const probe of probes) {
      for (const search of ['matchExact', 'matchHnsw'] as const) {
        const before: SnapshotMatch[] = await inClear[search](clear, 'm-clear', probe, THRESHOLD);
        const after: SnapshotMatch[] = await withKey[search](protectedId, 'm-rotated', probe, THRESHOLD);
        expect(after.map((m) => m.subjectId)).toEqual(before.map((m) => m.subjectId));
        for (const [i, match] of after.entries()) {
          largest = Math.max(largest, Math.abs(match.score - (before[i]?.score ?? 0)));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThanOrEqual(80);
    expect(largest).toBeLessThan(1e-5);
  });

  it('a dump is useless without the key: the store and the snapshot do not match the same face in the clear', async () => {
    const { rows } = await t.db.query<{ clear: string; rotated: string; snapshot: string }>(
      `SELECT c.embedding::text AS clear, r.embedding::text AS rotated, s.embedding::text AS snapshot
         FROM embeddings c
         JOIN embeddings r ON r.reference_image_id = c.reference_image_id AND r.model = 'm-rotated'
         JOIN snapshot_entries s ON s.reference_image_id = c.reference_image_id AND s.deployment_id = $1
        WHERE c.model = 'm-clear'`,
      [protectedId],
    );
    expect(rows).toHaveLength(SUBJECTS * 2);
    for (const row of rows) {
      const face = fromVectorText(row.clear);
      expect(Math.abs(cosine(face, fromVectorText(row.rotated)))).toBeLessThan(0.4);
      expect(Math.abs(cosine(face, fromVectorText(row.snapshot)))).toBeLessThan(0.4);
    }
    // Whoever searches the stolen snapshot with a photo of subject 0 (its template in the clear) finds no one.
    const { rows: best } = await t.db.query<{ score: number }>(
      `SELECT 1 - (embedding <=> $1::vector) AS score FROM snapshot_entries WHERE deployment_id = $2
        ORDER BY embedding <=> $1::vector LIMIT 1`,
      [toVectorParam(faces[0] as Float32Array), protectedId],
    );
    expect(Number(best[0]?.score)).toBeLessThan(THRESHOLD);
    // And a matcher without the key refuses rather than matching noise.
    await expect(
      new SnapshotRepository(t.db).matchExact(protectedId, 'm-rotated', faces[0]!, THRESHOLD),
    ).rejects.toThrow(TemplateKeyError);
    await expect(
      new SnapshotRepository(t.db, { templates: new TemplateKeys([randomBytes(32)]) }).matchExact(
        protectedId,
        'm-rotated',
        faces[0]!,
        THRESHOLD,
      ),
    ).rejects.toMatchObject({ code: 'template_key_mismatch' });
  });

  it('two deployments of the same list hold unlinkable templates', async () => {
    const { rows } = await t.db.query<{ a: string; b: string }>(
      `SELECT a.embedding::text AS a, b.embedding::text AS b
         FROM snapshot_entries a JOIN snapshot_entries b ON a.reference_image_id = b.reference_image_id
        WHERE a.deployment_id = $1 AND b.deployment_id = $2`,
      [protectedId, other],
    );
    expect(rows).toHaveLength(SUBJECTS * 2);
    for (const row of rows)
      expect(Math.abs(cosine(fromVectorText(row.a), fromVectorText(row.b)))).toBeLessThan(0.4);
    const salts = await t.db.query<{ salt: Uint8Array | null }>(
      'SELECT template_salt AS salt FROM deployments WHERE id = ANY($1::uuid[]) ORDER BY id',
      [[protectedId, other]],
    );
    expect(salts.rows.every((row) => row.salt && row.salt.length === 32)).toBe(true);
    const inClear = await t.db.query('SELECT 1 FROM deployments WHERE id = $1 AND template_salt IS NULL', [
      clear,
    ]);
    expect(inClear.rows).toHaveLength(1);
  });

  it("destroying a deployment's snapshot destroys its salt: its rotation cannot be made again", async () => {
    await t.db.query('UPDATE deployments SET snapshot_destroyed_at = now() WHERE id = $1', [other]);
    const { rows } = await t.db.query<{ salt: Uint8Array | null; key: string | null }>(
      'SELECT template_salt AS salt, template_key_id AS key FROM deployments WHERE id = $1',
      [other],
    );
    expect(rows[0]).toEqual({ salt: null, key: templates.current.keyId });
  });
});
