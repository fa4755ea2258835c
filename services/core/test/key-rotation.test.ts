import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditRepository,
  alertCropContext,
  alertSceneContext,
  DataCipher,
  fromVectorText,
  referenceImageContext,
  rotateDataKey,
  templateKeys,
  toVectorParam,
} from '../src/index.js';
import { backendName, createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe(`data key rotation (${backendName})`, () => {
  let t: TestDatabase;
  const oldKey = randomBytes(32);
  const oldCipher = new DataCipher(oldKey);
  const images = ['image-1', 'image-2', 'image-3'].map((s) => Buffer.from(s));
  const crop = Buffer.from('probe-crop');
  const scene = Buffer.from('alert-scene');

  beforeAll(async () => {
    t = await createTestDatabase();
    const w = await t.db.query<{ id: string }>(`INSERT INTO watchlists (name) VALUES ('w') RETURNING id`);
    const s = await t.db.query<{ id: string }>(
      `INSERT INTO subjects (watchlist_id, label, category, priority) VALUES ($1, 'x', 'wanted', 'red') RETURNING id`,
      [w.rows[0]?.id],
    );
    subjectId = s.rows[0]?.id as string;
    for (const [i, image] of images.entries()) {
      await t.db.query(
        `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
         VALUES ($1, $2, $3, 'image/jpeg', 1, 1, '{}', $4)`,
        [s.rows[0]?.id, w.rows[0]?.id, `h${i}`, oldCipher.seal(image)],
      );
    }
    const d = await t.db.query<{ id: string }>(
      `INSERT INTO deployments (name, threshold, model) VALUES ('d', 0.5, 'm') RETURNING id`,
    );
    await t.db.query(
      `INSERT INTO alerts (deployment_id, camera_id, subject_id, track_id, label, category, priority, score, threshold, captured_at, encrypted_probe, encrypted_scene, dedupe_key)
       VALUES ($1, gen_random_uuid(), $2, 't', 'x', 'wanted', 'red', 0.9, 0.5, now(), $3, $4, 'k')`,
      [d.rows[0]?.id, s.rows[0]?.id, oldCipher.seal(crop), oldCipher.seal(scene, alertSceneContext('k'))],
    );
  });
  afterAll(async () => {
    await t.drop();
  });

  let subjectId: string;

  it('re-encrypts every image and crop with the new key, bound to its row, on the audit trail', async () => {
    const newKey = randomBytes(32);
    const result = await rotateDataKey({ db: t.db, current: oldCipher, currentKeys: [oldKey], newKey });
    expect(result).toMatchObject({
      referenceImages: 3,
      alertCrops: 1,
      alertScenes: 1,
      oldKeyId: oldCipher.keyId,
    });
    const onlyNew = new DataCipher(newKey);
    const stored = await t.db.query<{ encrypted_data: Uint8Array }>(
      'SELECT encrypted_data FROM reference_images ORDER BY content_hash',
    );
    expect(
      stored.rows.map((r, i) =>
        onlyNew.open(r.encrypted_data, referenceImageContext(subjectId, `h${i}`)).toString(),
      ),
    ).toEqual(images.map(String));
    // Bound: the blobs, sealed before binding, no longer open in another subject's row or without context.
    expect(() => onlyNew.open(stored.rows[0]?.encrypted_data as Uint8Array)).toThrow();
    expect(() =>
      onlyNew.open(stored.rows[0]?.encrypted_data as Uint8Array, referenceImageContext(subjectId, 'h1')),
    ).toThrow();
    expect(() => oldCipher.open(stored.rows[0]?.encrypted_data as Uint8Array)).toThrow();
    const alert = await t.db.query<{ encrypted_probe: Uint8Array; encrypted_scene: Uint8Array }>(
      'SELECT encrypted_probe, encrypted_scene FROM alerts',
    );
    expect(
      onlyNew.open(alert.rows[0]?.encrypted_probe as Uint8Array, alertCropContext('k')).equals(crop),
    ).toBe(true);
    // The scene too (regression: a rotation left scenes under the old key, unreadable once it went).
    expect(
      onlyNew.open(alert.rows[0]?.encrypted_scene as Uint8Array, alertSceneContext('k')).equals(scene),
    ).toBe(true);
    const audit = new AuditRepository(t.db);
    const entries = await audit.list({ action: 'keys.rotate' });
    expect(entries[0]?.details).toMatchObject({ referenceImages: 3, alertCrops: 1, newKeyId: onlyNew.keyId });
    expect((await audit.verify()).ok).toBe(true);
  });

  it('changes nothing when a blob cannot be opened', async () => {
    const before = await t.db.query<{ encrypted_data: Uint8Array }>(
      'SELECT encrypted_data FROM reference_images ORDER BY content_hash',
    );
    const stranger = new DataCipher(randomBytes(32));
    await expect(
      rotateDataKey({ db: t.db, current: stranger, currentKeys: [randomBytes(32)], newKey: randomBytes(32) }),
    ).rejects.toMatchObject({ code: 'decryption_failed' });
    const after = await t.db.query<{ encrypted_data: Uint8Array }>(
      'SELECT encrypted_data FROM reference_images ORDER BY content_hash',
    );
    expect(after.rows.map((r) => Buffer.from(r.encrypted_data).toString('hex'))).toEqual(
      before.rows.map((r) => Buffer.from(r.encrypted_data).toString('hex')),
    );
  });
});

describe(`data key rotation moves rotated templates to the new key (${backendName})`, () => {
  let t: TestDatabase;
  afterAll(async () => t?.drop());

  it('re-rotates store templates and running snapshots: each still decodes to the same vector', async () => {
    t = await createTestDatabase();
    const oldKey = randomBytes(32);
    const oldCipher = new DataCipher(oldKey);
    const old = templateKeys(oldCipher).current;
    const face = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i + 1) / 5.6);
    const salt = randomBytes(32);
    const w = await t.db.query<{ id: string }>(`INSERT INTO watchlists (name) VALUES ('w') RETURNING id`);
    const s = await t.db.query<{ id: string }>(
      `INSERT INTO subjects (watchlist_id, label, category, priority) VALUES ($1, 'x', 'wanted', 'red') RETURNING id`,
      [w.rows[0]?.id],
    );
    const image = await t.db.query<{ id: string }>(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, 'h', 'image/jpeg', 1, 1, '{}', $3) RETURNING id`,
      [
        s.rows[0]?.id,
        w.rows[0]?.id,
        oldCipher.seal(Buffer.from('img'), referenceImageContext(s.rows[0]?.id as string, 'h')),
      ],
    );
    await t.db.query(
      `INSERT INTO embeddings (reference_image_id, subject_id, model, embedding, template_key_id) VALUES ($1, $2, 'm', $3::vector, $4)`,
      [image.rows[0]?.id, s.rows[0]?.id, toVectorParam(old.store(64).apply(face)), old.keyId],
    );
    // A template from before rotation (in the clear) is rotated by the key rotation too.
    await t.db.query(
      `INSERT INTO embeddings (reference_image_id, subject_id, model, embedding) VALUES ($1, $2, 'legacy', $3::vector)`,
      [image.rows[0]?.id, s.rows[0]?.id, toVectorParam(face)],
    );
    const d = await t.db.query<{ id: string }>(
      `INSERT INTO deployments (name, threshold, model, status, template_salt, template_key_id)
       VALUES ('d', 0.5, 'm', 'running', $1, $2) RETURNING id`,
      [salt, old.keyId],
    );
    await t.db.query(
      `INSERT INTO snapshot_entries (deployment_id, subject_id, reference_image_id, label, category, priority, model, embedding)
       VALUES ($1, $2, $3, 'x', 'wanted', 'red', 'm', $4::vector)`,
      [d.rows[0]?.id, s.rows[0]?.id, image.rows[0]?.id, toVectorParam(old.deployment(salt, 64).apply(face))],
    );

    const newKey = randomBytes(32);
    const result = await rotateDataKey({ db: t.db, current: oldCipher, currentKeys: [oldKey], newKey });
    expect(result).toMatchObject({ templates: 2, snapshotEntries: 1 });
    const next = templateKeys(new DataCipher(newKey)).current;
    const stored = await t.db.query<{ embedding: string; key: string }>(
      'SELECT embedding::text AS embedding, template_key_id AS key FROM embeddings',
    );
    expect(stored.rows).toHaveLength(2);
    for (const row of stored.rows) {
      expect(row.key).toBe(next.keyId);
      const back = next.store(64).invert(Float32Array.from(fromVectorText(row.embedding)));
      expect(Math.max(...back.map((x, i) => Math.abs(x - (face[i] ?? 0))))).toBeLessThan(1e-5);
    }
    const entry = await t.db.query<{ embedding: string }>(
      'SELECT embedding::text AS embedding FROM snapshot_entries',
    );
    const probe = next
      .deployment(salt, 64)
      .invert(Float32Array.from(fromVectorText(entry.rows[0]?.embedding as string)));
    expect(Math.max(...probe.map((x, i) => Math.abs(x - (face[i] ?? 0))))).toBeLessThan(1e-5);
    const deployment = await t.db.query<{ key: string }>('SELECT template_key_id AS key FROM deployments');
    expect(deployment.rows[0]?.key).toBe(next.keyId);
  });
});
