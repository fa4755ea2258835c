import { AuditRepository } from '../audit/audit.repository.js';
import { type Database, fromVectorText, type Queryable, toVectorParam } from '../db/database.js';
import { alertCropContext, alertSceneContext, DataCipher, referenceImageContext } from './data-cipher.js';
import { snapshotTemplate, TemplateKeyError, type TemplateKeys, templateKeys } from './template-rotation.js';

/** Rows re-encrypted per query, so a large store never sits in memory at once. */
const PAGE = 200;

export interface RotationResult {
  oldKeyId: string;
  newKeyId: string;
  referenceImages: number;
  alertCrops: number;
  /** Alerts' scenes (the frame kept with an alert, bystanders blurred). */
  alertScenes: number;
  /** Store templates and running snapshots' templates moved to the new key's rotations. */
  templates: number;
  snapshotEntries: number;
}

/** Each sealed column with its table and the columns its context is made of (see data-cipher's contexts). */
const SEALED = {
  referenceImages: {
    table: 'reference_images',
    column: 'encrypted_data',
    contextColumns: 'subject_id::text AS a, content_hash AS b',
    context: (row: ContextRow) => referenceImageContext(row.a, row.b ?? ''),
  },
  alertCrops: {
    table: 'alerts',
    column: 'encrypted_probe',
    contextColumns: 'dedupe_key AS a, NULL AS b',
    context: (row: ContextRow) => alertCropContext(row.a),
  },
  alertScenes: {
    table: 'alerts',
    column: 'encrypted_scene',
    contextColumns: 'dedupe_key AS a, NULL AS b',
    context: (row: ContextRow) => alertSceneContext(row.a),
  },
} as const;

interface ContextRow {
  id: string | number;
  blob: Uint8Array;
  a: string;
  b: string | null;
}

/** First ids for keyset paging: below every uuid, below every bigint. */
const UUID_START = '00000000-0000-0000-0000-000000000000';

/**
 * The rows of `sql` a page at a time, in id order: `sql` takes `params`, then the last id seen and
 * the page size as its two last parameters.
 */
async function* pages<T extends { id: string | number }>(
  tx: Queryable,
  sql: string,
  params: unknown[],
  start: string,
): AsyncGenerator<T[]> {
  let after = start;
  for (;;) {
    const { rows } = await tx.query<T>(sql, [...params, after, PAGE]);
    if (rows.length === 0) return;
    yield rows;
    after = String(rows[rows.length - 1]?.id);
  }
}

async function resealColumn(tx: Queryable, sealed: keyof typeof SEALED, cipher: DataCipher): Promise<number> {
  const { table, column, contextColumns, context } = SEALED[sealed];
  let count = 0;
  const sql = `SELECT id, ${column} AS blob, ${contextColumns} FROM ${table}
    WHERE ${column} IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`;
  for await (const rows of pages<ContextRow>(tx, sql, [], table === 'alerts' ? '0' : UUID_START)) {
    for (const row of rows) {
      // Blobs sealed before they were bound to their rows are resealed bound, under any key.
      if (!cipher.isCurrent(row.blob) || !cipher.isBound(row.blob)) {
        const bound = context(row);
        const plain = cipher.open(row.blob, bound);
        await tx.query(`UPDATE ${table} SET ${column} = $1 WHERE id = $2`, [
          cipher.seal(plain, bound),
          row.id,
        ]);
        plain.fill(0);
        count++;
      }
    }
  }
  return count;
}

/**
 * Moves store templates under any other key, or in the clear (written before templates were
 * rotated), into the new key's rotation.
 */
async function rerotateStore(tx: Queryable, from: TemplateKeys, to: TemplateKeys): Promise<number> {
  const target = to.current;
  let count = 0;
  const sql = `SELECT id, embedding::text AS embedding, template_key_id FROM embeddings
    WHERE template_key_id IS DISTINCT FROM $1 AND id > $2 ORDER BY id LIMIT $3`;
  type Row = { id: string; embedding: string; template_key_id: string | null };
  for await (const rows of pages<Row>(tx, sql, [target.keyId], UUID_START)) {
    for (const row of rows) {
      const clear = snapshotTemplate(from, null, {
        vector: Float32Array.from(fromVectorText(row.embedding)),
        keyId: row.template_key_id,
      });
      await tx.query('UPDATE embeddings SET embedding = $1::vector, template_key_id = $2 WHERE id = $3', [
        toVectorParam(target.store(clear.length).apply(clear)),
        target.keyId,
        row.id,
      ]);
      clear.fill(0);
      count++;
    }
  }
  return count;
}

/** Moves each salted snapshot kept under another key to the new key's rotation of the same salt. */
async function rerotateSnapshots(tx: Queryable, from: TemplateKeys, to: TemplateKeys): Promise<number> {
  const target = to.current;
  const { rows: deployments } = await tx.query<{ id: string; salt: Uint8Array; key_id: string }>(
    `SELECT id, template_salt AS salt, template_key_id AS key_id FROM deployments
      WHERE template_salt IS NOT NULL AND template_key_id <> $1`,
    [target.keyId],
  );
  let count = 0;
  const sql = `SELECT id::text AS id, embedding::text AS embedding FROM snapshot_entries
    WHERE deployment_id = $1 AND id > $2 ORDER BY id LIMIT $3`;
  for (const deployment of deployments) {
    const salt = Buffer.from(deployment.salt);
    const old = from.byId(deployment.key_id);
    if (!old)
      throw new TemplateKeyError(
        `deployment ${deployment.id}'s snapshot key ${deployment.key_id} is not held`,
      );
    for await (const rows of pages<{ id: string; embedding: string }>(tx, sql, [deployment.id], '0')) {
      for (const row of rows) {
        const vector = fromVectorText(row.embedding);
        const clear = old.deployment(salt, vector.length).invert(vector);
        await tx.query('UPDATE snapshot_entries SET embedding = $1::vector WHERE id = $2', [
          toVectorParam(target.deployment(salt, clear.length).apply(clear)),
          row.id,
        ]);
        clear.fill(0);
        count++;
      }
    }
    await tx.query('UPDATE deployments SET template_key_id = $1 WHERE id = $2', [
      target.keyId,
      deployment.id,
    ]);
  }
  return count;
}

/**
 * Re-encrypts every reference image, alert crop and alert scene with `newKey`, bound to its row, and moves
 * rotated templates (store and running snapshots) to the new key's rotations, in one transaction with its audit
 * entry: either everything is sealed with the new key and the rotation is on record, or nothing
 * changed. `current` must open every existing blob.
 */
export async function rotateDataKey(options: {
  db: Database;
  current: DataCipher;
  currentKeys: Buffer[];
  newKey: Buffer;
  actorName?: string;
}): Promise<RotationResult> {
  const next = new DataCipher(options.newKey, options.currentKeys);
  const audit = new AuditRepository(options.db);
  return options.db.transaction(async (tx) => {
    const referenceImages = await resealColumn(tx, 'referenceImages', next);
    const alertCrops = await resealColumn(tx, 'alertCrops', next);
    const alertScenes = await resealColumn(tx, 'alertScenes', next);
    // Template keys derive from the data key: the old ones map templates back, the new one forward.
    const [from, to] = [templateKeys(next), templateKeys(new DataCipher(options.newKey))];
    const templates = await rerotateStore(tx, from, to);
    const snapshotEntries = await rerotateSnapshots(tx, from, to);
    const result = {
      oldKeyId: options.current.keyId,
      newKeyId: next.keyId,
      referenceImages,
      alertCrops,
      alertScenes,
      templates,
      snapshotEntries,
    };
    await audit.append(
      {
        actorName: options.actorName ?? 'cli',
        action: 'keys.rotate',
        targetType: 'data_key',
        targetId: next.keyId,
        details: { ...result },
      },
      tx,
    );
    return result;
  });
}
