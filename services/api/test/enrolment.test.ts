import { createHash } from 'node:crypto';
import { AuditRepository, DataCipher, referenceImageContext, templateKeys } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blankImage, bombPng, faceCrop, loadEngine, multipart, samplePhoto } from './face-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

const SQL_INJECTION = "Robert'); DROP TABLE subjects; --";

/** True when EXIF (as sharp's metadata gives it: `Exif\0\0` then TIFF) has a GPS IFD (tag 0x8825 in IFD0). */
function hasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false;
  const tiff = exif.subarray(6);
  const little = tiff[0] === 0x49;
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const ifd0 = little ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  for (let i = 0; i < u16(ifd0); i++) if (u16(ifd0 + 2 + 12 * i) === 0x8825) return true;
  return false;
}

/** Same size and nearly the same pixels (a re-encode at high quality), in RGB. */
async function sameImage(a: Buffer, b: Buffer): Promise<boolean> {
  const [ra, rb] = await Promise.all(
    [a, b].map((x) => sharp(x).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
  );
  if (!ra || !rb || ra.info.width !== rb.info.width || ra.info.height !== rb.info.height) return false;
  let diff = 0;
  for (let i = 0; i < ra.data.length; i++) diff += Math.abs((ra.data[i] ?? 0) - (rb.data[i] ?? 0));
  return diff / ra.data.length < 2;
}

describe(`enrolment (${backendName})`, () => {
  let t: TestApp;
  let watchlistId: string;
  let faces: Buffer[];
  const cipher = new DataCipher(Buffer.alloc(32, 7));

  beforeAll(async () => {
    const engine = await loadEngine();
    t = await createTestApp({ faceEngine: engine, cipher });
    faces = [await faceCrop(1, 0), await faceCrop(3, 1), await faceCrop(6, 2)];
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/watchlists',
      headers: bearer(t.tokens.watchlist_manager),
      payload: { name: 'Enrolment test', description: 'faces' },
    });
    watchlistId = created.json().id;
  });
  afterAll(async () => t?.close());

  const enrol = (
    fields: Record<string, string>,
    files: { filename: string; data: Buffer; name?: string }[],
    id = watchlistId,
  ) => {
    const body = multipart(fields, files);
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${id}/subjects`,
      headers: { ...bearer(t.tokens.watchlist_manager), ...body.headers },
      payload: body.payload,
    });
  };
  const counts = async () => {
    const { rows } = await t.deps.db.query<{ s: string; r: string; e: string }>(
      'SELECT (SELECT count(*) FROM subjects) AS s, (SELECT count(*) FROM reference_images) AS r, (SELECT count(*) FROM embeddings) AS e',
    );
    return { subjects: Number(rows[0]?.s), images: Number(rows[0]?.r), embeddings: Number(rows[0]?.e) };
  };
  const fields = { label: 'Subject A', category: 'wanted', priority: 'red', notes: 'seen at the market' };

  it('enrols a subject with two images: 201, sealed images, one embedding per image of the profile model', async () => {
    const response = await enrol(
      { ...fields, source: 'case 12', legal_basis: 'warrant 7', expires_at: '2099-01-01' },
      [
        { filename: 'a.jpg', data: faces[0]! },
        { filename: 'b.jpg', data: faces[1]! },
      ],
    );
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(body.images).toHaveLength(2);
    expect(body.images[0].quality.interOcular).toBeGreaterThan(0);
    const { rows } = await t.deps.db.query<{
      encrypted_data: Uint8Array;
      content_hash: string;
      model: string;
      dims: number;
    }>(
      `SELECT r.encrypted_data, r.content_hash, e.model, vector_dims(e.embedding) AS dims
       FROM reference_images r JOIN embeddings e ON e.reference_image_id = r.id WHERE r.subject_id = $1`,
      [body.id],
    );
    expect(rows).toHaveLength(2);
    const engine = await loadEngine();
    for (const row of rows) {
      expect(row.model).toBe(engine.profile.modelId);
      expect(Number(row.dims)).toBe(engine.profile.embedder.embeddingSize);
      const sealed = Buffer.from(row.encrypted_data);
      expect(sealed.includes(faces[0]!.subarray(0, 64))).toBe(false);
      const stored = cipher.open(sealed, referenceImageContext(body.id, row.content_hash));
      expect([await sameImage(faces[0]!, stored), await sameImage(faces[1]!, stored)]).toContain(true);
    }
    const subject = await t.app.inject({
      method: 'GET',
      url: `/api/v1/subjects/${body.id}`,
      headers: bearer(t.tokens.admin),
    });
    expect(subject.json()).toMatchObject({
      label: 'Subject A',
      category: 'wanted',
      priority: 'red',
      source: 'case 12',
      legalBasis: 'warrant 7',
      expiresAt: '2099-01-01T00:00:00.000Z',
    });
    const audit = await new AuditRepository(t.deps.db).list({ action: 'subject.create' });
    expect(audit[0]?.targetId).toBe(body.id);
  });

  it('serves a reference image decrypted to admins and managers, audited, and not to unassigned operators', async () => {
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/watchlists/${watchlistId}/subjects`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(list.statusCode).toBe(200);
    const imageId = list.json()[0].images[0].id;
    const image = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reference-images/${imageId}`,
      headers: bearer(t.tokens.admin),
    });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/jpeg');
    expect(image.headers['cache-control']).toBe('no-store');
    expect([
      await sameImage(faces[0]!, image.rawPayload),
      await sameImage(faces[1]!, image.rawPayload),
    ]).toContain(true);
    const views = await new AuditRepository(t.deps.db).list({ action: 'reference_image.view' });
    expect(views[0]?.targetId).toBe(imageId);
    const operator = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reference-images/${imageId}`,
      headers: bearer(t.tokens.operator),
    });
    expect(operator.statusCode).toBe(404);
    const oversight = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reference-images/${imageId}`,
      headers: bearer(t.tokens.oversight),
    });
    expect(oversight.statusCode).toBe(403);
  });

  it('recognises the same image uploaded again by its content hash: 409 duplicate_image, nothing written', async () => {
    const before = await counts();
    const again = await enrol({ ...fields, label: 'Subject A again' }, [
      { filename: 'a.jpg', data: faces[0]! },
    ]);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('duplicate_image');
    const twice = await enrol({ ...fields, label: 'Twice' }, [
      { filename: 'c.jpg', data: faces[2]! },
      { filename: 'c-again.jpg', data: faces[2]! },
    ]);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.images).toEqual([
      expect.objectContaining({ index: 1, code: 'duplicate_image' }),
    ]);
    expect(await counts()).toEqual(before);
  });

  it('keys content hashes (not the public SHA-256 of the photo) and still knows photos enrolled under SHA-256', async () => {
    const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
    const keyed = templateKeys(cipher).current.contentHash(faces[0]!);
    const { rows } = await t.deps.db.query<{
      content_hash: string;
      subject_id: string;
      watchlist_id: string;
    }>(
      'SELECT content_hash, subject_id, watchlist_id FROM reference_images WHERE content_hash = ANY($1::text[])',
      [[keyed, sha256(faces[0]!)]],
    );
    expect(rows.map((row) => row.content_hash)).toEqual([keyed]);
    // A row from before keyed hashes: its SHA-256 still makes a new upload of the photo a duplicate.
    const legacy = await sharp(faces[1]!).jpeg({ quality: 70 }).toBuffer();
    await t.deps.db.query(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, $3, 'image/jpeg', 1, 1, '{}', $4)`,
      [rows[0]?.subject_id, rows[0]?.watchlist_id, sha256(legacy), cipher.seal(legacy)],
    );
    const again = await enrol({ ...fields, label: 'Legacy again' }, [{ filename: 'l.jpg', data: legacy }]);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('duplicate_image');
  });

  it('answers each unusable image with its 422 code and writes nothing when any image fails', async () => {
    const tinyFace = await sharp(faces[2]!).resize({ width: 70 }).jpeg().toBuffer();
    const cases: [string, Buffer, string][] = [
      ['group.jpg', samplePhoto(1), 'multiple_faces'],
      ['blank.jpg', await blankImage(), 'no_face'],
      ['tiny.jpg', tinyFace, 'face_too_small'],
      ['truncated.jpg', faces[2]!.subarray(0, 1500), 'unsupported_image'],
      ['notes.txt', Buffer.from('just some text, not an image'), 'unsupported_image'],
      ['bomb.png', bombPng(), 'image_too_large'],
    ];
    const before = await counts();
    for (const [filename, data, code] of cases) {
      const response = await enrol({ ...fields, label: filename }, [
        { filename: 'ok.jpg', data: faces[2]! },
        { filename, data },
      ]);
      expect(response.statusCode, `${filename}: ${response.body}`).toBe(422);
      expect(response.json().error.code, filename).toBe(code);
      expect(response.json().error.images).toEqual([expect.objectContaining({ index: 1, filename, code })]);
    }
    expect(await counts()).toEqual(before);
  });

  it('refuses an oversized upload with 422 image_too_large and writes nothing', async () => {
    const before = await counts();
    const huge = Buffer.concat([faces[2]!, Buffer.alloc(16 * 1024 * 1024)]);
    const response = await enrol({ ...fields, label: 'huge' }, [{ filename: 'huge.jpg', data: huge }]);
    expect(response.statusCode).toBe(422);
    expect(response.json().error.code).toBe('image_too_large');
    const tooMany = await enrol(
      { ...fields, label: 'many' },
      Array.from({ length: 11 }, (_, i) => ({ filename: `${i}.jpg`, data: Buffer.from([i]) })),
    );
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().error.code).toBe('payload_too_large');
    expect(await counts()).toEqual(before);
  });

  it('refuses bad fields, wrong content types and unknown watchlists with clear 4xx codes', async () => {
    const image = [{ filename: 'c.jpg', data: faces[2]! }];
    const bad: [Record<string, string>, string][] = [
      [{ ...fields, label: '' }, 'invalid_label'],
      [{ ...fields, category: 'villain' }, 'invalid_category'],
      [{ ...fields, priority: SQL_INJECTION }, 'invalid_priority'],
      [{ ...fields, expires_at: '2001-01-01' }, 'invalid_expires_at'],
      [{ ...fields, expires_at: 'tomorrow' }, 'invalid_expires_at'],
      [{ ...fields, label: 'x'.repeat(201) }, 'invalid_label'],
      [{ ...fields, label: 'null\u0000byte' }, 'invalid_label'],
      [{ ...fields, role: 'admin' }, 'invalid_request'],
    ];
    for (const [body, code] of bad) {
      const response = await enrol(body, image);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error.code).toBe(code);
    }
    const noImage = await enrol(fields, []);
    expect(noImage.json().error.code).toBe('missing_image');
    const wrongField = await enrol(fields, [{ name: 'photo', filename: 'c.jpg', data: faces[2]! }]);
    expect(wrongField.statusCode).toBe(400);

    const json = await t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${watchlistId}/subjects`,
      headers: bearer(t.tokens.watchlist_manager),
      payload: fields,
    });
    expect(json.statusCode).toBe(415);
    const unknown = await enrol(fields, image, '00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    const notUuid = await enrol(fields, image, 'not-a-uuid');
    expect(notUuid.statusCode).toBe(400);
    const noToken = multipart(fields, image);
    const anonymous = await t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${watchlistId}/subjects`,
      headers: noToken.headers,
      payload: noToken.payload,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it('stores SQL-injection strings in every text field as plain text', async () => {
    const response = await enrol(
      {
        label: SQL_INJECTION,
        category: 'other',
        priority: 'green',
        notes: SQL_INJECTION,
        source: SQL_INJECTION,
        legal_basis: SQL_INJECTION,
      },
      [{ filename: 'c.jpg', data: faces[2]! }],
    );
    expect(response.statusCode, response.body).toBe(201);
    const subject = await t.app.inject({
      method: 'GET',
      url: `/api/v1/subjects/${response.json().id}`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(subject.json()).toMatchObject({
      label: SQL_INJECTION,
      notes: SQL_INJECTION,
      legalBasis: SQL_INJECTION,
    });
    const { rows } = await t.deps.db.query("SELECT to_regclass('subjects') AS t");
    expect(rows[0]).toEqual({ t: 'subjects' });
  });

  it('deletes a subject with its images and embeddings, audited', async () => {
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/watchlists/${watchlistId}/subjects?limit=1`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    const id = list.json()[0].id;
    const before = await counts();
    const deleted = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/subjects/${id}`,
      headers: bearer(t.tokens.admin),
    });
    expect(deleted.statusCode).toBe(204);
    const after = await counts();
    expect(after.subjects).toBe(before.subjects - 1);
    expect(after.images).toBeLessThan(before.images);
    expect(after.embeddings).toBe(after.images);
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/subjects/${id}`,
      headers: bearer(t.tokens.admin),
    });
    expect(again.statusCode).toBe(404);
    expect((await new AuditRepository(t.deps.db).list({ action: 'subject.delete' }))[0]?.targetId).toBe(id);
  });

  it('stores an uploaded photo without its metadata: EXIF with a GPS position does not come back (regression: kept)', async () => {
    const tagged = await sharp(faces[2]!)
      .withExif({
        IFD0: { ImageDescription: 'taken at the suspect address', Artist: 'DC Example' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '51/1 30/1 2644/100',
          GPSLongitudeRef: 'W',
          GPSLongitude: '0/1 7/1 3962/100',
        },
      })
      .jpeg({ quality: 90 })
      .toBuffer();
    expect(hasGps((await sharp(tagged).metadata()).exif)).toBe(true);
    const response = await enrol({ ...fields, label: 'Subject with EXIF' }, [
      { filename: 'gps.jpg', data: tagged },
    ]);
    expect(response.statusCode, response.body).toBe(201);
    const image = await t.app.inject({
      method: 'GET',
      url: `/api/v1/reference-images/${response.json().images[0].id}`,
      headers: bearer(t.tokens.admin),
    });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/jpeg');
    const served = image.rawPayload;
    const meta = await sharp(served).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(served.includes('suspect address')).toBe(false);
    expect(served.includes('DC Example')).toBe(false);
    expect(await sameImage(tagged, served)).toBe(true);
  });

  it("a reference image moved into another subject's row does not open there (sealed bound to its row)", async () => {
    const a = await enrol({ ...fields, label: 'Bound A' }, [
      { filename: 'a.jpg', data: await sharp(faces[0]!).jpeg({ quality: 80 }).toBuffer() },
    ]);
    const b = await enrol({ ...fields, label: 'Bound B' }, [
      { filename: 'b.jpg', data: await sharp(faces[1]!).jpeg({ quality: 80 }).toBuffer() },
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    const [imageA, imageB] = [a.json().images[0].id, b.json().images[0].id];
    // Someone with write access to the database puts A's sealed photo in B's row.
    await t.deps.db.query(
      'UPDATE reference_images SET encrypted_data = (SELECT encrypted_data FROM reference_images WHERE id = $1) WHERE id = $2',
      [imageA, imageB],
    );
    const view = (id: string) =>
      t.app.inject({ method: 'GET', url: `/api/v1/reference-images/${id}`, headers: bearer(t.tokens.admin) });
    const swapped = await view(imageB);
    expect(swapped.statusCode).toBe(500);
    expect(swapped.json().error.code).toBe('decryption_failed');
    expect((await view(imageA)).statusCode).toBe(200);
  });
});
