import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DataCipher, loadDataCipher, openDatabase, parseDataKey, referenceImageContext } from '@vigil/core';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.mjs');

describe('vigil keys rotate (embedded mode)', () => {
  it('re-encrypts the store, replaces the key file and leaves no staged key behind', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-keys-'));
    const oldCipher = loadDataCipher({ dataDir });
    const db = await openDatabase({ dataDir });
    const w = await db.query<{ id: string }>(`INSERT INTO watchlists (name) VALUES ('w') RETURNING id`);
    const s = await db.query<{ id: string }>(
      `INSERT INTO subjects (watchlist_id, label, category, priority) VALUES ($1, 'x', 'other', 'green') RETURNING id`,
      [w.rows[0]?.id],
    );
    await db.query(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, 'h', 'image/jpeg', 1, 1, '{}', $3)`,
      [s.rows[0]?.id, w.rows[0]?.id, oldCipher.seal(Buffer.from('reference'))],
    );
    await db.close();

    const env = {
      ...process.env,
      VIGIL_DATA_DIR: dataDir,
      DATABASE_URL: '',
      VIGIL_DATA_KEY: '',
      LOG_LEVEL: 'error',
    };
    const { stdout } = await run('node', [VIGIL, 'keys', 'rotate'], { env });
    const result = JSON.parse(stdout.trim()) as { newKeyId: string; referenceImages: number };
    expect(result.referenceImages).toBe(1);

    const keyFile = path.join(dataDir, 'vigil-data.key');
    expect(fs.existsSync(`${keyFile}.next`)).toBe(false);
    const newCipher = new DataCipher(parseDataKey(fs.readFileSync(keyFile, 'utf8')));
    expect(newCipher.keyId).toBe(result.newKeyId);
    expect(newCipher.keyId).not.toBe(oldCipher.keyId);
    const reopened = await openDatabase({ dataDir });
    const row = await reopened.query<{ encrypted_data: Uint8Array }>(
      'SELECT encrypted_data FROM reference_images',
    );
    // Resealed bound to its row: subject and content hash.
    const context = referenceImageContext(s.rows[0]?.id as string, 'h');
    expect(newCipher.open(row.rows[0]?.encrypted_data as Uint8Array, context).toString()).toBe('reference');
    await reopened.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to rotate a VIGIL_DATA_KEY without a new key file', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-keys-'));
    const env = {
      ...process.env,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    await expect(run('node', [VIGIL, 'keys', 'rotate'], { env })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('new_key_required'),
    });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});
