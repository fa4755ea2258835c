import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AuditRepository, loadDataCipher, openDatabase } from '@vigil/core';
import { loadProfile } from '@vigil/face-runtime';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.mjs');
const require = createRequire(import.meta.url);
const SAMPLES = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

describe('vigil reembed (embedded mode, spawned)', () => {
  const dirs: string[] = [];
  const env = (dataDir: string) => ({
    ...process.env,
    VIGIL_DATA_DIR: dataDir,
    DATABASE_URL: '',
    NATS_URL: '',
    VIGIL_DATA_KEY: '',
    LOG_LEVEL: 'error',
  });
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('embeds a stored reference image that has no embedding of the current model, once', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-reembed-'));
    dirs.push(dataDir);
    const cipher = loadDataCipher({ dataDir });
    const db = await openDatabase({ dataDir });
    const w = await db.query<{ id: string }>(`INSERT INTO watchlists (name) VALUES ('w') RETURNING id`);
    const s = await db.query<{ id: string }>(
      `INSERT INTO subjects (watchlist_id, label, category, priority) VALUES ($1, 'x', 'wanted', 'red') RETURNING id`,
      [w.rows[0]?.id],
    );
    // A photo enrolled under an older model: its image is stored, its embedding is not of this one.
    const photo = fs.readFileSync(path.join(SAMPLES, 'sample1.jpg'));
    const image = await db.query<{ id: string }>(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, 'h', 'image/jpeg', 1, 1, '{}', $3) RETURNING id`,
      [s.rows[0]?.id, w.rows[0]?.id, cipher.seal(photo)],
    );
    await db.close();

    const first = await run('node', [VIGIL, 'reembed'], { env: env(dataDir) });
    const model = loadProfile('default').modelId;
    // sample1.jpg shows three people: enrolment's checks refuse it, and so does re-embedding.
    expect(JSON.parse(first.stdout.trim())).toEqual({
      model,
      embedded: 0,
      alreadyEmbedded: 0,
      failed: [
        expect.objectContaining({
          referenceImageId: image.rows[0]?.id,
          subjectId: s.rows[0]?.id,
          code: 'multiple_faces',
        }),
      ],
    });

    // The same subject with a one-face photo.
    const reopened = await openDatabase({ dataDir, migrate: false });
    const sharp = (await import('sharp')).default;
    const portrait = await sharp(path.join(SAMPLES, 'sample1.jpg'))
      .extract({ left: 1300, top: 50, width: 600, height: 700 })
      .jpeg()
      .toBuffer();
    await reopened.query(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, 'h2', 'image/jpeg', 600, 700, '{}', $3)`,
      [s.rows[0]?.id, w.rows[0]?.id, cipher.seal(portrait)],
    );
    await reopened.close();
    const second = await run('node', [VIGIL, 'reembed'], { env: env(dataDir) });
    expect(JSON.parse(second.stdout.trim())).toMatchObject({ model, embedded: 1, alreadyEmbedded: 0 });
    const third = await run('node', [VIGIL, 'reembed'], { env: env(dataDir) });
    expect(JSON.parse(third.stdout.trim())).toMatchObject({ model, embedded: 0, alreadyEmbedded: 1 });

    const check = await openDatabase({ dataDir, migrate: false });
    const { rows } = await check.query<{ model: string; dims: number }>(
      'SELECT model, vector_dims(embedding) AS dims FROM embeddings',
    );
    expect(rows).toEqual([{ model, dims: loadProfile('default').embedder.embeddingSize }]);
    const audit = await new AuditRepository(check).list({ action: 'embeddings.reembed' });
    expect(audit.map((a) => a.details.embedded)).toEqual([0, 1, 0]);
    await check.close();
  }, 120_000);

  it('refuses without a data key rather than making one', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-reembed-'));
    dirs.push(dataDir);
    await expect(run('node', [VIGIL, 'reembed'], { env: env(dataDir) })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no_data_key'),
    });
    expect(fs.existsSync(path.join(dataDir, 'vigil-data.key'))).toBe(false);
  });
});
