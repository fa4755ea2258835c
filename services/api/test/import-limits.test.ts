import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendName, waitFor } from '@vigil/core/testing';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_IMAGE_BYTES } from '../src/subjects/enrolment.service.js';
import { multipart } from './face-fixtures.js';
import { importFinished } from './import-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

/**
 * A ZIP whose `name` entry declares `declared` bytes in both its local header and the central
 * directory while it really inflates to `actual` zero bytes: the archive a ZIP bomb arrives in.
 */
function lyingZip(csv: string, name: string, actual: number, declared: number): Buffer {
  const zip = zipSync(
    { 'labels.csv': new TextEncoder().encode(csv), [name]: new Uint8Array(actual) },
    { level: 9 },
  );
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const nameAt = (at: number, length: number) => new TextDecoder().decode(zip.subarray(at, at + length));
  let patched = 0;
  for (let at = 0; at + 46 < zip.length; at++) {
    const signature = view.getUint32(at, true);
    if (signature === 0x04034b50 && nameAt(at + 30, view.getUint16(at + 26, true)) === name) {
      view.setUint32(at + 22, declared, true);
      patched++;
    } else if (signature === 0x02014b50 && nameAt(at + 46, view.getUint16(at + 28, true)) === name) {
      view.setUint32(at + 24, declared, true);
      patched++;
    }
  }
  if (patched !== 2) throw new Error('the test ZIP was not patched');
  return Buffer.from(zip);
}

/** Issue #22 item 5: archives and folders that lie. */
describe(`import limits (${backendName})`, () => {
  let t: TestApp;
  let dir: string;

  const newWatchlist = async (name: string) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/watchlists',
        headers: bearer(t.tokens.admin),
        payload: { name },
      })
    ).json().id as string;
  const upload = (watchlistId: string, archive: Buffer) => {
    const body = multipart({}, [{ name: 'archive', filename: 'list.zip', data: archive }]);
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${watchlistId}/imports`,
      headers: { ...bearer(t.tokens.admin), ...body.headers },
      payload: body.payload,
    });
  };
  const fromFolder = (watchlistId: string, payload: { folder: string; labels?: string }) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/watchlists/${watchlistId}/imports`,
      headers: bearer(t.tokens.admin),
      payload,
    });
  const finished = (id: string) => importFinished(t, id);

  beforeAll(async () => {
    t = await createTestApp();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-import-limits-'));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('bounds an entry by the bytes it really inflates to, not the 1 KiB it declares', async () => {
    const watchlistId = await newWatchlist('Lying ZIP');
    // Declares 1 KiB, inflates to 24 MiB: past the image limit, so the row fails and nothing is kept.
    const archive = lyingZip(
      'label,category,priority,file\nBomb,wanted,red,bomb.jpg\n',
      'bomb.jpg',
      24 << 20,
      1024,
    );
    expect(archive.length).toBeLessThan(MAX_IMAGE_BYTES / 100);
    const response = await upload(watchlistId, archive);
    expect(response.statusCode, response.body).toBe(202);
    const result = await finished(response.json().id);
    expect(result).toMatchObject({ status: 'done', processed: 1, enrolled: 0, failed: 1 });
    expect(result.errors[0]).toMatchObject({ row: 2, code: 'image_too_large' });
  });

  it('refuses a labels.csv that inflates past its limit, whatever it declares', async () => {
    const watchlistId = await newWatchlist('Lying CSV');
    const zip = zipSync({ 'labels.csv': new Uint8Array(40 << 20).fill(0x61) }, { level: 9 });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let at = 0; at + 46 < zip.length; at++) {
      if (view.getUint32(at, true) === 0x04034b50) view.setUint32(at + 22, 100, true);
      if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, 100, true);
    }
    const response = await upload(watchlistId, Buffer.from(zip));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('invalid_csv');
  });

  it('runs at most two imports at once and refuses the third with 429 too_many_imports', async () => {
    const watchlistId = await newWatchlist('Concurrent');
    const archive = lyingZip(
      'label,category,priority,file\nBomb,wanted,red,bomb.jpg\n',
      'bomb.jpg',
      24 << 20,
      1024,
    );
    const responses = await Promise.all([1, 2, 3].map(() => upload(watchlistId, archive)));
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([202, 202, 429]);
    const refused = responses.find((r) => r.statusCode === 429)!;
    expect(refused.json().error.code).toBe('too_many_imports');
    for (const accepted of responses.filter((r) => r.statusCode === 202)) await finished(accepted.json().id);
    // The slots come back when imports end.
    expect((await upload(watchlistId, archive)).statusCode).toBe(202);
  });

  it('keeps a folder import inside its folder: no ../ labels path, no symlink out', async () => {
    const watchlistId = await newWatchlist('Folder');
    const inside = path.join(dir, 'photos');
    fs.mkdirSync(inside);
    fs.writeFileSync(path.join(dir, 'secret.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    fs.writeFileSync(path.join(dir, 'outside.csv'), 'label,category,priority,file\nX,other,green,x.jpg\n');
    fs.symlinkSync(path.join(dir, 'secret.jpg'), path.join(inside, 'link.jpg'));
    fs.writeFileSync(
      path.join(inside, 'labels.csv'),
      'label,category,priority,file\nLinked,other,green,link.jpg\n',
    );

    const outward = await fromFolder(watchlistId, { folder: inside, labels: '../outside.csv' });
    expect(outward.statusCode).toBe(400);
    expect(outward.json().error.code).toBe('invalid_folder');

    const linked = await fromFolder(watchlistId, { folder: inside });
    expect(linked.statusCode, linked.body).toBe(202);
    const result = await finished(linked.json().id);
    expect(result.errors[0]).toMatchObject({ row: 2, code: 'missing_file' });

    const linkedCsv = path.join(dir, 'linked-labels');
    fs.mkdirSync(linkedCsv);
    fs.symlinkSync(path.join(dir, 'outside.csv'), path.join(linkedCsv, 'labels.csv'));
    const csvOut = await fromFolder(watchlistId, { folder: linkedCsv });
    expect(csvOut.statusCode).toBe(400);
    expect(csvOut.json().error.code).toBe('invalid_folder');
  });
});
