import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendName, waitFor } from '@vigil/core/testing';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faceCrop, loadEngine, multipart, samplePhoto } from './face-fixtures.js';
import { importFinished } from './import-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

describe(`bulk import (${backendName})`, () => {
  let t: TestApp;
  let faces: Buffer[];
  let folder: string;

  const newWatchlist = async (name: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/watchlists',
        headers: bearer(t.tokens.watchlist_manager),
        payload: { name },
      })
    ).json().id as string;
  const upload = (
    watchlistId: string,
    files: { name: string; filename: string; data: Buffer }[],
    token = t.tokens.watchlist_manager,
  ) => {
    const body = multipart({}, files);
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${watchlistId}/imports`,
      headers: { ...bearer(token), ...body.headers },
      payload: body.payload,
    });
  };
  const finished = (id: string) => importFinished(t, id);

  beforeAll(async () => {
    t = await createTestApp({ faceEngine: await loadEngine() });
    faces = [await faceCrop(1, 0), await faceCrop(3, 1), await faceCrop(6, 2), await faceCrop(5, 0)];
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-import-'));
  });
  afterAll(async () => {
    await t?.close();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('imports a ZIP with labels.csv in the background, enrolling good rows and reporting each failed one', async () => {
    const watchlistId = await newWatchlist('Bulk');
    const csv = [
      'label,category,priority,file,notes,reason,review_by',
      'Alice,wanted,red,images/a.jpg,"notes, with a comma",Wanted on warrant W/1,2099-01-31',
      'Bob,missing,amber,b.jpg;images/c.jpg,,,',
      'Group,other,green,group.jpg,,,',
      'Ghost,wanted,red,nothere.jpg,,,',
      'Villain,villain,red,d.jpg,,,',
      'Huge,wanted,red,huge.jpg,,,',
    ].join('\r\n');
    const archive = zipSync({
      'labels.csv': Buffer.from(csv),
      'images/a.jpg': faces[0]!,
      'b.jpg': faces[1]!,
      'images/c.jpg': faces[2]!,
      'group.jpg': samplePhoto(2),
      'd.jpg': faces[3]!,
      // 20 MB of zeros deflates to a few KB: the ZIP-bomb shape, refused without being inflated.
      'huge.jpg': new Uint8Array(20 * 1024 * 1024),
    });
    const response = await upload(watchlistId, [
      { name: 'archive', filename: 'list.zip', data: Buffer.from(archive) },
    ]);
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toMatchObject({ status: 'running', total: 6 });
    const result = await finished(response.json().id);
    expect(result).toMatchObject({ status: 'done', total: 6, processed: 6, enrolled: 2, failed: 4 });
    expect(result.errors.map((e: { row: number; code: string }) => [e.row, e.code])).toEqual([
      [4, 'multiple_faces'],
      [5, 'missing_file'],
      [6, 'invalid_category'],
      [7, 'image_too_large'],
    ]);
    const subjects = await t.app.inject({
      method: 'GET',
      url: `/api/v1/watchlists/${watchlistId}/subjects`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    const byLabel = Object.fromEntries(
      subjects.json().map((s: { label: string; images: unknown[]; notes: string }) => [s.label, s]),
    );
    expect(Object.keys(byLabel).sort()).toEqual(['Alice', 'Bob']);
    expect(byLabel.Bob.images).toHaveLength(2);
    expect(byLabel.Alice.notes).toBe('notes, with a comma');
    // Provenance columns (issue 24): recorded, and the entry still awaits a second person's approval.
    expect(byLabel.Alice).toMatchObject({
      reason: 'Wanted on warrant W/1',
      reviewBy: '2099-01-31',
      approvedBy: null,
    });
    const list = await t.app.inject({
      method: 'GET',
      url: `/api/v1/watchlists/${watchlistId}/imports`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(list.json()).toHaveLength(1);
  });

  it('takes the CSV as a separate file, and refuses unreadable archives and CSVs', async () => {
    const watchlistId = await newWatchlist('Separate CSV');
    const archive = Buffer.from(zipSync({ 'x.jpg': faces[3]! }));
    const ok = await upload(watchlistId, [
      { name: 'archive', filename: 'x.zip', data: archive },
      {
        name: 'labels',
        filename: 'labels.csv',
        data: Buffer.from('label,category,priority,file\nXavier,suspect,green,x.jpg\n'),
      },
    ]);
    expect(ok.statusCode).toBe(202);
    expect(await finished(ok.json().id)).toMatchObject({ status: 'done', enrolled: 1, failed: 0 });

    const notZip = await upload(watchlistId, [
      { name: 'archive', filename: 'x.zip', data: Buffer.from('PK not really a zip') },
    ]);
    expect(notZip.statusCode).toBe(400);
    expect(notZip.json().error.code).toBe('invalid_archive');
    const noCsv = await upload(watchlistId, [{ name: 'archive', filename: 'x.zip', data: archive }]);
    expect(noCsv.json().error.code).toBe('invalid_csv');
    const badCsv = await upload(watchlistId, [
      { name: 'archive', filename: 'x.zip', data: archive },
      { name: 'labels', filename: 'labels.csv', data: Buffer.from('name,file\nX,x.jpg\n') },
    ]);
    expect(badCsv.json().error.code).toBe('invalid_csv');
    const unknown = await upload('00000000-0000-4000-8000-000000000000', [
      { name: 'archive', filename: 'x.zip', data: archive },
    ]);
    expect(unknown.statusCode).toBe(404);
    expect(
      (await upload(watchlistId, [{ name: 'archive', filename: 'x.zip', data: archive }], t.tokens.operator))
        .statusCode,
    ).toBe(403);
  });

  it('imports from a server folder for admins only, never reading outside it', async () => {
    const watchlistId = await newWatchlist('Folder');
    const inside = path.join(folder, 'photos');
    fs.mkdirSync(inside);
    fs.writeFileSync(path.join(inside, 'p.jpg'), faces[0]!);
    fs.writeFileSync(path.join(folder, 'outside.jpg'), faces[1]!);
    fs.writeFileSync(
      path.join(inside, 'labels.csv'),
      'label,category,priority,file\nPaula,vulnerable,amber,p.jpg\nSneaky,other,green,../outside.jpg\n',
    );
    const post = (token: string, payload: unknown) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/watchlists/${watchlistId}/imports`,
        headers: bearer(token),
        payload: payload as never,
      });
    expect((await post(t.tokens.watchlist_manager, { folder: inside })).statusCode).toBe(403);
    const response = await post(t.tokens.admin, { folder: inside });
    expect(response.statusCode, response.body).toBe(202);
    const result = await finished(response.json().id);
    expect(result).toMatchObject({ status: 'done', enrolled: 1, failed: 1 });
    expect(result.errors[0]).toMatchObject({ row: 3, code: 'missing_file' });
    const missing = await post(t.tokens.admin, { folder: path.join(folder, 'nope') });
    expect(missing.json().error.code).toBe('invalid_folder');
    expect((await post(t.tokens.admin, {})).statusCode).toBe(400);
  });
});
