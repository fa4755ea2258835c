import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, DataCipher } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blankImage, faceCrop, loadEngine, multipart, samplePhoto } from './face-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

interface Preview {
  index: number;
  filename: string;
  ok: boolean;
  code: string;
  verdict: string;
  face: string | null;
}

/** Every row of every table in the public schema, counted. */
async function rowCounts(t: TestApp): Promise<Record<string, number>> {
  const { rows: tables } = await t.deps.db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const { rows } = await t.deps.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM "${name}"`);
    counts[name] = Number(rows[0]?.n);
  }
  return counts;
}

/** Every file under `dir` with its size and modification time. */
function files(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const file = path.join(entry.parentPath, entry.name);
      const stat = fs.statSync(file);
      return `${path.relative(dir, file)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

// Issue #23: a watchlist manager sees what enrolment would decide for each photo before enrolling.
describe(`previewing an enrolment (${backendName})`, () => {
  let t: TestApp;
  let watchlistId: string;
  let good: Buffer;
  let small: Buffer;
  let subjectId: string;
  const logged: string[] = [];

  beforeAll(async () => {
    const logger = createLogger({
      level: 'trace',
      destination: new Writable({
        write(chunk, _encoding, done) {
          logged.push(String(chunk));
          done();
        },
      }),
    });
    t = await createTestApp({
      faceEngine: await loadEngine(),
      cipher: new DataCipher(Buffer.alloc(32, 3)),
      logger,
    });
    good = await faceCrop(1, 0);
    // The same face at a tenth of its size: under the gate's 32 px between the eyes.
    const { width } = await sharp(good).metadata();
    small = await sharp(good)
      .resize(Math.round((width ?? 300) / 8))
      .jpeg({ quality: 95 })
      .toBuffer();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/watchlists',
      headers: bearer(t.tokens.watchlist_manager),
      payload: { name: 'Preview list' },
    });
    watchlistId = created.json().id;
  });
  afterAll(async () => t?.close());

  const send = (route: string, fields: Record<string, string>, images: Buffer[], names?: string[]) => {
    const body = multipart(
      fields,
      images.map((data, i) => ({ filename: names?.[i] ?? `${i}.jpg`, data })),
    );
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${watchlistId}/${route}`,
      headers: { ...bearer(t.tokens.watchlist_manager), ...body.headers },
      payload: body.payload,
    });
  };

  it('gives each image its verdict in words and its aligned face, storing nothing, and enrolment then agrees', async () => {
    const images = [good, await blankImage(), samplePhoto(1), small];
    const rowsBefore = await rowCounts(t);
    const filesBefore = files(t.dataDir);
    logged.length = 0;

    const response = await send('subjects/preview', {}, images, [
      'good.jpg',
      'wall.jpg',
      'group.jpg',
      'small.jpg',
    ]);
    expect(response.statusCode, response.body).toBe(200);
    const previews: Preview[] = response.json().images;
    expect(previews.map((p) => [p.filename, p.ok, p.code])).toEqual([
      ['good.jpg', true, 'ok'],
      ['wall.jpg', false, 'no_face'],
      ['group.jpg', false, 'multiple_faces'],
      ['small.jpg', false, 'face_too_small'],
    ]);
    expect(previews[0]?.verdict).toBe('Good: one clear face');
    expect(previews[1]?.verdict).toBe('No face found');
    expect(previews[2]?.verdict).toMatch(/^\w+ faces: crop to one person$/);
    expect(previews[3]?.verdict).toMatch(/^Face too small \(\d+ px between the eyes; at least 32\)$/);
    // The aligned face enrolment would embed, as a small JPEG; none where no face was found.
    const [cropWidth, cropHeight] = (await loadEngine()).cropSize;
    const thumbnail = Buffer.from(previews[0]!.face!.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
    expect(await sharp(thumbnail).metadata()).toMatchObject({
      format: 'jpeg',
      width: cropWidth,
      height: cropHeight,
    });
    expect(previews[1]?.face).toBeNull();
    expect(previews[2]?.face).toMatch(/^data:image\/jpeg;base64,/);

    // Nothing stored: no row in any table (the audit trail included), no file, no image in the logs.
    expect(await rowCounts(t)).toEqual(rowsBefore);
    expect(files(t.dataDir)).toEqual(filesBefore);
    const logs = logged.join('');
    expect(logs).not.toContain('base64');
    expect(logs).not.toContain(thumbnail.toString('base64').slice(0, 40));

    // Enrolment refuses exactly the images the preview refused, with the same codes...
    const fields = { label: 'Preview subject', category: 'wanted', priority: 'red' };
    const refused = await send('subjects', fields, images);
    expect(refused.statusCode).toBe(422);
    expect(
      refused
        .json()
        .error.images.map((failure: { index: number; code: string }) => [failure.index, failure.code]),
    ).toEqual(previews.filter((p) => !p.ok).map((p) => [p.index, p.code]));
    // ...and enrols the one that passed.
    const enrolled = await send(
      'subjects',
      fields,
      images.filter((_, i) => previews[i]?.ok),
    );
    expect(enrolled.statusCode, enrolled.body).toBe(201);
    expect(enrolled.json().images).toHaveLength(1);
    subjectId = enrolled.json().id;

    // Now enrolled, the same photo previews as a duplicate, as enrolment would refuse it.
    const again = await send('subjects/preview', {}, [good]);
    expect(again.json().images[0]).toMatchObject({
      ok: false,
      code: 'duplicate_image',
      verdict: 'Already enrolled in this watchlist',
      face: null,
    });
  });

  it("adds photos to an enrolled subject with the same checks, all or none, removes one but never the last, and says so in the subject's history", async () => {
    const mirrored = await sharp(good).flop().jpeg({ quality: 92 }).toBuffer();
    const preview = await send('subjects/preview', {}, [mirrored, small]);
    expect(preview.json().images.map((p: Preview) => p.code)).toEqual(['ok', 'face_too_small']);
    const add = (images: Buffer[]) => {
      const body = multipart(
        {},
        images.map((data, i) => ({ filename: `${i}.jpg`, data })),
      );
      return t.app.inject({
        method: 'POST',
        url: `/api/v1/subjects/${subjectId}/images`,
        headers: { ...bearer(t.tokens.watchlist_manager), ...body.headers },
        payload: body.payload,
      });
    };
    const refused = await add([mirrored, small]);
    expect(refused.statusCode).toBe(422);
    expect(
      refused.json().error.images.map((f: { index: number; code: string }) => [f.index, f.code]),
    ).toEqual([[1, 'face_too_small']]);
    const subject = () =>
      t.app.inject({
        method: 'GET',
        url: `/api/v1/subjects/${subjectId}`,
        headers: bearer(t.tokens.watchlist_manager),
      });
    expect((await subject()).json().images).toHaveLength(1);

    // Approved before: a new photo withdraws the approval.
    await t.deps.db.query(
      "UPDATE subjects SET approved_by = (SELECT id FROM users WHERE username = 'admin'), approved_at = now() WHERE id = $1",
      [subjectId],
    );
    const added = await add([mirrored]);
    expect(added.statusCode, added.body).toBe(201);
    expect(added.json()).toMatchObject({ id: subjectId, images: [{ quality: expect.any(Object) }] });
    expect((await subject()).json()).toMatchObject({ images: [{}, {}], approvedBy: null });
    const history = await t.app.inject({
      method: 'GET',
      url: `/api/v1/subjects/${subjectId}/history`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(history.json().entries[0]).toMatchObject({
      kind: 'photos',
      text: '1 photo added by watchlist_manager-user; the approval was withdrawn',
    });
    // The same photo again is a duplicate; more than ten photos in all are refused before any check.
    expect((await add([mirrored])).json().error.code).toBe('duplicate_image');
    const blank = await blankImage();
    const tooMany = await add(Array.from({ length: 9 }, () => blank));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.code).toBe('too_many_images');

    // A photo removed takes its templates with it; the last one stays.
    const remove = (id: string) =>
      t.app.inject({
        method: 'DELETE',
        url: `/api/v1/reference-images/${id}`,
        headers: bearer(t.tokens.watchlist_manager),
      });
    const [first, second] = (await subject()).json().images as { id: string }[];
    expect((await remove(first!.id)).statusCode).toBe(204);
    expect((await subject()).json().images.map((image: { id: string }) => image.id)).toEqual([second!.id]);
    const templates = await t.deps.db.query<{ n: string | number }>(
      'SELECT count(*) AS n FROM embeddings WHERE subject_id = $1',
      [subjectId],
    );
    expect(Number(templates.rows[0]?.n)).toBe(1);
    const last = await remove(second!.id);
    expect(last.statusCode).toBe(409);
    expect(last.json().error.code).toBe('last_image');
    expect((await remove(first!.id)).statusCode).toBe(404);
    const after = await t.app.inject({
      method: 'GET',
      url: `/api/v1/subjects/${subjectId}/history?limit=1`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(after.json().entries[0]).toMatchObject({
      kind: 'photos',
      text: 'A photo removed by watchlist_manager-user, 1 photo left',
    });
  });

  it('words a blurred face and refuses bad requests with a code', async () => {
    const blurred = await sharp(good).blur(4).jpeg({ quality: 92 }).toBuffer();
    const response = await send('subjects/preview', {}, [blurred]);
    expect(response.json().images[0]).toMatchObject({ ok: false, code: 'low_quality' });
    expect(response.json().images[0].verdict).toMatch(/^Too blurred/);

    const none = await send('subjects/preview', {}, []);
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe('missing_image');
    // The enrolment form's fields may come along; anything else is refused.
    expect((await send('subjects/preview', { label: 'x' }, [good])).statusCode).toBe(200);
    const stray = await send('subjects/preview', { bogus: 'x' }, [good]);
    expect(stray.statusCode).toBe(400);
    expect(stray.json().error.code).toBe('invalid_request');
    const body = multipart({}, [{ filename: 'a.jpg', data: good }]);
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/watchlists/00000000-0000-4000-8000-000000000000/subjects/preview',
      headers: { ...bearer(t.tokens.watchlist_manager), ...body.headers },
      payload: body.payload,
    });
    expect(missing.statusCode).toBe(404);
  });
});
