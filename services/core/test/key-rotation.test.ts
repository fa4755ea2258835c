import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditRepository,
  alertCropContext,
  DataCipher,
  referenceImageContext,
  rotateDataKey,
} from '../src/index.js';
import { backendName, createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe(`data key rotation (${backendName})`, () => {
  let t: TestDatabase;
  const oldKey = randomBytes(32);
  const oldCipher = new DataCipher(oldKey);
  const images = ['image-1', 'image-2', 'image-3'].map((s) => Buffer.from(s));
  const crop = Buffer.from('probe-crop');

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
      `INSERT INTO alerts (deployment_id, camera_id, subject_id, track_id, label, category, priority, score, threshold, captured_at, encrypted_probe, dedupe_key)
       VALUES ($1, gen_random_uuid(), $2, 't', 'x', 'wanted', 'red', 0.9, 0.5, now(), $3, 'k')`,
      [d.rows[0]?.id, s.rows[0]?.id, oldCipher.seal(crop)],
    );
  });
  afterAll(async () => {
    await t.drop();
  });

  let subjectId: string;

  it('re-encrypts every image and crop with the new key, bound to its row, on the audit trail', async () => {
    const newKey = randomBytes(32);
    const result = await rotateDataKey({ db: t.db, current: oldCipher, currentKeys: [oldKey], newKey });
    expect(result).toMatchObject({ referenceImages: 3, alertCrops: 1, oldKeyId: oldCipher.keyId });
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
    const alert = await t.db.query<{ encrypted_probe: Uint8Array }>('SELECT encrypted_probe FROM alerts');
    expect(
      onlyNew.open(alert.rows[0]?.encrypted_probe as Uint8Array, alertCropContext('k')).equals(crop),
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
