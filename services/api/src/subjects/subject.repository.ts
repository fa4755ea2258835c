import type { SubjectCategory, SubjectChanges, SubjectPriority } from '@vigil/contract';
import { type Queryable, toVectorParam } from '@vigil/core';

export {
  SUBJECT_CATEGORIES,
  SUBJECT_PRIORITIES,
  type SubjectCategory,
  type SubjectChanges,
  type SubjectPriority,
} from '@vigil/contract';

export interface SubjectInput {
  watchlistId: string;
  label: string;
  category: SubjectCategory;
  priority: SubjectPriority;
  notes: string;
  source: string;
  legalBasis: string;
  expiresAt: string | null;
  addedBy: string;
  reason: string;
  imageTakenOn: string | null;
  reviewBy: string | null;
}

export interface ReferenceImageSummary {
  id: string;
  quality: Record<string, number>;
  width: number;
  height: number;
  mimeType: string;
}

export interface Subject {
  id: string;
  watchlistId: string;
  label: string;
  category: SubjectCategory;
  priority: SubjectPriority;
  notes: string;
  source: string;
  legalBasis: string;
  expiresAt: string | null;
  addedBy: string | null;
  createdAt: string;
  /** Why the subject is on the list: the category's criteria they meet. */
  reason: string;
  /** When the reference image was taken (YYYY-MM-DD); `source` says where it came from. */
  imageTakenOn: string | null;
  addedByName: string | null;
  /** Who approved the entry (never who added it), and when; null until approved. */
  approvedBy: string | null;
  approvedByName: string | null;
  approvedAt: string | null;
  /** The entry is left out of snapshots from this day (YYYY-MM-DD) until reviewed. */
  reviewBy: string | null;
  images: ReferenceImageSummary[];
}

interface SubjectRow {
  id: string;
  watchlist_id: string;
  label: string;
  category: SubjectCategory;
  priority: SubjectPriority;
  notes: string;
  source: string;
  legal_basis: string;
  expires_at: Date | string | null;
  added_by: string | null;
  created_at: Date | string;
  reason: string;
  image_taken_on: Date | string | null;
  approved_by: string | null;
  approved_at: Date | string | null;
  added_by_name: string | null;
  approved_by_name: string | null;
  review_by: Date | string | null;
  images: ReferenceImageSummary[] | string | null;
}

/** A `date` column as YYYY-MM-DD: pg gives a local-midnight Date, PGlite a UTC one or a string. */
export function dayOf(value: Date | string | null): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value.slice(0, 10);
  const local = new Date(value.getTime() - value.getTimezoneOffset() * 60_000);
  return (value.getUTCHours() === 0 ? value : local).toISOString().slice(0, 10);
}

function fromRow(row: SubjectRow): Subject {
  const images = typeof row.images === 'string' ? JSON.parse(row.images) : (row.images ?? []);
  return {
    id: row.id,
    watchlistId: row.watchlist_id,
    label: row.label,
    category: row.category,
    priority: row.priority,
    notes: row.notes,
    source: row.source,
    legalBasis: row.legal_basis,
    expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : null,
    addedBy: row.added_by,
    createdAt: new Date(row.created_at).toISOString(),
    reason: row.reason,
    imageTakenOn: dayOf(row.image_taken_on),
    addedByName: row.added_by_name,
    approvedBy: row.approved_by,
    approvedByName: row.approved_by_name,
    approvedAt: row.approved_at ? new Date(row.approved_at).toISOString() : null,
    reviewBy: dayOf(row.review_by),
    images: (images as ReferenceImageSummary[]).sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
}

const SELECT = `SELECT s.*, COALESCE((SELECT json_agg(json_build_object('id', r.id, 'quality', r.quality,
    'width', r.width, 'height', r.height, 'mimeType', r.mime_type))
  FROM reference_images r WHERE r.subject_id = s.id), '[]'::json) AS images,
  (SELECT u.username FROM users u WHERE u.id = s.added_by) AS added_by_name,
  (SELECT u.username FROM users u WHERE u.id = s.approved_by) AS approved_by_name
  FROM subjects s`;

/** `subjects`, `reference_images` and `embeddings`: a subject and what identifies them. */
export class SubjectRepository {
  constructor(private readonly db: Queryable) {}

  async insertSubject(input: SubjectInput, tx = this.db): Promise<string> {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO subjects (watchlist_id, label, category, priority, notes, source, legal_basis, expires_at, added_by,
         reason, image_taken_on, review_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [
        input.watchlistId,
        input.label,
        input.category,
        input.priority,
        input.notes,
        input.source,
        input.legalBasis,
        input.expiresAt,
        input.addedBy,
        input.reason,
        input.imageTakenOn,
        input.reviewBy,
      ],
    );
    return rows[0]!.id;
  }

  /** Stores one sealed reference image and its embedding. */
  async insertImage(
    image: {
      subjectId: string;
      watchlistId: string;
      contentHash: string;
      mimeType: string;
      width: number;
      height: number;
      quality: Record<string, number>;
      sealed: Buffer;
      model: string;
      /** As the store keeps it (see core's storedTemplate): rotated under that key, or in the clear (null). */
      embedding: Float32Array;
      templateKeyId: string | null;
    },
    tx = this.db,
  ): Promise<string> {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO reference_images (subject_id, watchlist_id, content_hash, mime_type, width, height, quality, encrypted_data)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING id`,
      [
        image.subjectId,
        image.watchlistId,
        image.contentHash,
        image.mimeType,
        image.width,
        image.height,
        JSON.stringify(image.quality),
        image.sealed,
      ],
    );
    const id = rows[0]!.id;
    await tx.query(
      'INSERT INTO embeddings (reference_image_id, subject_id, model, embedding, template_key_id) VALUES ($1, $2, $3, $4::vector, $5)',
      [id, image.subjectId, image.model, toVectorParam(image.embedding), image.templateKeyId],
    );
    return id;
  }

  /** Content hashes among `hashes` already enrolled in the watchlist. */
  async existingHashes(watchlistId: string, hashes: string[], tx = this.db): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { rows } = await tx.query<{ content_hash: string }>(
      'SELECT content_hash FROM reference_images WHERE watchlist_id = $1 AND content_hash = ANY($2::text[])',
      [watchlistId, hashes],
    );
    return new Set(rows.map((row) => row.content_hash));
  }

  /** Locks the subject's row until the transaction ends. */
  async lock(id: string, tx: Queryable): Promise<void> {
    await tx.query('SELECT id FROM subjects WHERE id = $1 FOR UPDATE', [id]);
  }

  async find(id: string, tx = this.db): Promise<Subject | undefined> {
    const { rows } = await tx.query<SubjectRow>(`${SELECT} WHERE s.id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** A page of a watchlist's subjects, oldest first; `q` keeps those whose label or notes contain it. */
  async listByWatchlist(
    watchlistId: string,
    page: { limit: number; offset: number; q?: string },
  ): Promise<Subject[]> {
    // The search text is matched literally: LIKE's wildcards in it are escaped.
    const pattern = page.q ? `%${page.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const { rows } = await this.db.query<SubjectRow>(
      `${SELECT} WHERE s.watchlist_id = $1
         AND ($4::text IS NULL OR s.label ILIKE $4 ESCAPE '\\' OR s.notes ILIKE $4 ESCAPE '\\')
       ORDER BY s.created_at, s.id LIMIT $2 OFFSET $3`,
      [watchlistId, page.limit, page.offset, pattern],
    );
    return rows.map(fromRow);
  }

  /** Records provenance; any change withdraws the entry's approval, which someone must give again. */
  async updateProvenance(id: string, changes: SubjectChanges, tx = this.db): Promise<void> {
    await tx.query(
      `UPDATE subjects SET reason = COALESCE($2, reason), source = COALESCE($3, source),
         image_taken_on = CASE WHEN $4::boolean THEN $5::date ELSE image_taken_on END,
         review_by = COALESCE($6::date, review_by), approved_by = NULL, approved_at = NULL,
         label = COALESCE($7, label), category = COALESCE($8, category),
         priority = COALESCE($9, priority), notes = COALESCE($10, notes)
       WHERE id = $1`,
      [
        id,
        changes.reason ?? null,
        changes.source ?? null,
        changes.imageTakenOn !== undefined,
        changes.imageTakenOn ?? null,
        changes.reviewBy ?? null,
        changes.label ?? null,
        changes.category ?? null,
        changes.priority ?? null,
        changes.notes ?? null,
      ],
    );
  }

  /** Withdraws an entry's approval: it is left out of snapshots until approved again. */
  async withdrawApproval(id: string, tx = this.db): Promise<void> {
    await tx.query('UPDATE subjects SET approved_by = NULL, approved_at = NULL WHERE id = $1', [id]);
  }

  async approve(id: string, approverId: string, tx = this.db): Promise<void> {
    await tx.query('UPDATE subjects SET approved_by = $2, approved_at = now() WHERE id = $1', [
      id,
      approverId,
    ]);
  }

  async delete(id: string, tx = this.db): Promise<boolean> {
    const { rowCount } = await tx.query('DELETE FROM subjects WHERE id = $1', [id]);
    return rowCount > 0;
  }

  /** Deletes one reference image; its embeddings go with it. */
  async deleteImage(id: string, tx = this.db): Promise<boolean> {
    const { rowCount } = await tx.query('DELETE FROM reference_images WHERE id = $1', [id]);
    return rowCount > 0;
  }

  /** The sealed bytes of a reference image, with its subject. */
  async findImage(
    id: string,
  ): Promise<
    | { subjectId: string; watchlistId: string; contentHash: string; mimeType: string; sealed: Buffer }
    | undefined
  > {
    const { rows } = await this.db.query<{
      subject_id: string;
      watchlist_id: string;
      content_hash: string;
      mime_type: string;
      encrypted_data: Uint8Array;
    }>(
      'SELECT subject_id, watchlist_id, content_hash, mime_type, encrypted_data FROM reference_images WHERE id = $1',
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      subjectId: row.subject_id,
      watchlistId: row.watchlist_id,
      contentHash: row.content_hash,
      mimeType: row.mime_type,
      sealed: Buffer.from(row.encrypted_data),
    };
  }

  /** True when `userId` operates a deployment whose list held `subjectId` (operators see those references). */
  async operatorMaySee(userId: string, subjectId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM deployment_subject_log l JOIN deployment_operators o ON o.deployment_id = l.deployment_id
       WHERE l.subject_id = $1 AND o.user_id = $2 LIMIT 1`,
      [subjectId, userId],
    );
    return rows.length > 0;
  }
}
