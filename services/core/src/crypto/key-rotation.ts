import { AuditRepository } from '../audit/audit.repository.js';
import type { Database, Queryable } from '../db/database.js';
import { alertCropContext, DataCipher, referenceImageContext } from './data-cipher.js';

/** Rows re-encrypted per query, so a large store never sits in memory at once. */
const PAGE = 200;

export interface RotationResult {
  oldKeyId: string;
  newKeyId: string;
  referenceImages: number;
  alertCrops: number;
}

/** Each sealed column with the columns its context is made of (see data-cipher's contexts). */
const SEALED = {
  reference_images: {
    column: 'encrypted_data',
    contextColumns: 'subject_id::text AS a, content_hash AS b',
    context: (row: ContextRow) => referenceImageContext(row.a, row.b ?? ''),
  },
  alerts: {
    column: 'encrypted_probe',
    contextColumns: 'dedupe_key AS a, NULL AS b',
    context: (row: ContextRow) => alertCropContext(row.a),
  },
} as const;

interface ContextRow {
  id: string | number;
  blob: Uint8Array;
  a: string;
  b: string | null;
}

async function resealColumn(tx: Queryable, table: keyof typeof SEALED, cipher: DataCipher): Promise<number> {
  const { column, contextColumns, context } = SEALED[table];
  let count = 0;
  let after = table === 'alerts' ? '0' : '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await tx.query<ContextRow>(
      `SELECT id, ${column} AS blob, ${contextColumns} FROM ${table}
        WHERE ${column} IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, PAGE],
    );
    if (rows.length === 0) return count;
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
    after = String(rows[rows.length - 1]?.id);
  }
}

/**
 * Re-encrypts every reference image and alert crop with `newKey`, bound to its row, in one transaction with its audit
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
    const referenceImages = await resealColumn(tx, 'reference_images', next);
    const alertCrops = await resealColumn(tx, 'alerts', next);
    const result = { oldKeyId: options.current.keyId, newKeyId: next.keyId, referenceImages, alertCrops };
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
