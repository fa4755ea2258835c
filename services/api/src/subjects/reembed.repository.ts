import { type Queryable, toVectorParam } from '@vigil/core';

/** The reference images and embeddings a re-embedding run reads and adds to. */
export class ReembedRepository {
  constructor(private readonly db: Queryable) {}

  /** Reference images that already have an embedding of `model`. */
  async embeddedCount(model: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      'SELECT count(DISTINCT reference_image_id) AS n FROM embeddings WHERE model = $1',
      [model],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Reference images without an embedding of `model`, oldest first. */
  async withoutEmbedding(model: string): Promise<{ id: string; subjectId: string }[]> {
    const { rows } = await this.db.query<{ id: string; subject_id: string }>(
      `SELECT ri.id, ri.subject_id FROM reference_images ri
        WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.reference_image_id = ri.id AND e.model = $1)
        ORDER BY ri.created_at, ri.id`,
      [model],
    );
    return rows.map((row) => ({ id: row.id, subjectId: row.subject_id }));
  }

  /** One image's sealed bytes and content hash; undefined once deleted. */
  async sealedImage(id: string): Promise<{ sealed: Uint8Array; contentHash: string } | undefined> {
    const { rows } = await this.db.query<{ encrypted_data: Uint8Array; content_hash: string }>(
      'SELECT encrypted_data, content_hash FROM reference_images WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row ? { sealed: row.encrypted_data, contentHash: row.content_hash } : undefined;
  }

  /** Adds the image's embedding of `model`; false when it has one already (another run got there). */
  async addEmbedding(
    imageId: string,
    model: string,
    embedding: Float32Array,
    templateKeyId: string | null,
  ): Promise<boolean> {
    const inserted = await this.db.query(
      `INSERT INTO embeddings (reference_image_id, subject_id, model, embedding, template_key_id)
       SELECT id, subject_id, $2, $3::vector, $4 FROM reference_images WHERE id = $1
       ON CONFLICT (reference_image_id, model) DO NOTHING`,
      [imageId, model, toVectorParam(embedding), templateKeyId],
    );
    return inserted.rowCount > 0;
  }
}
