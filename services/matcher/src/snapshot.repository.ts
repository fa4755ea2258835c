import { createHash } from 'node:crypto';
import { type Database, snapshotProbe, type TemplateKeys, toVectorParam } from '@vigil/core';

/** What the matcher needs to know about a deployment. */
export interface DeploymentInfo {
  id: string;
  status: 'planned' | 'running' | 'stopped';
  threshold: number;
  model: string;
}

/** One subject's best-scoring snapshot entry. */
export interface SnapshotMatch {
  subjectId: string;
  referenceImageId: string;
  label: string;
  category: string;
  priority: string;
  /** Cosine similarity. */
  score: number;
}

/** Nearest neighbours the HNSW path fetches before keeping the best per subject. */
export const HNSW_CANDIDATES = 40;
/** ef_search for HNSW: above the candidate count, for recall close to exact search. */
export const HNSW_EF_SEARCH = 200;

const MODEL_ID = /^[A-Za-z0-9._-]{1,100}$/;
/** Deployments whose template salt a process keeps at hand: far more than run at once. */
const CACHED_SALTS = 1000;

/** What a deployment's snapshot was rotated with: its salt and the key's id; null for a snapshot in the clear. */
type SnapshotTemplate = { salt: Buffer; keyId: string } | null;

function hnswIndexName(model: string, dimensions: number): string {
  return `snapshot_hnsw_${createHash('sha256').update(`${model}/${dimensions}`).digest('hex').slice(0, 16)}`;
}

/**
 * The watchlist snapshots frozen when deployments start: the only embeddings the matcher searches.
 * Exact search by default (every entry scored, recall 100%); an HNSW index per model for large
 * snapshots, built the first time one needs it.
 */
export class SnapshotRepository {
  readonly #indexes = new Map<string, Promise<void>>();
  readonly #salts = new Map<string, SnapshotTemplate>();
  readonly #templates: TemplateKeys | undefined;

  /**
   * `templates` (derived from the data key) rotates each probe into its deployment's snapshot space;
   * a snapshot frozen with a salt cannot be searched without them (TemplateKeyError).
   */
  constructor(
    private readonly db: Database,
    options: { templates?: TemplateKeys } = {},
  ) {
    this.#templates = options.templates;
  }

  /** The probe as the deployment's snapshot holds templates: rotated with its salt, or as given. */
  async #probe(deploymentId: string, vector: ArrayLike<number>): Promise<ArrayLike<number>> {
    let template = this.#salts.get(deploymentId);
    if (template === undefined) {
      const { rows } = await this.db.query<{
        status: string;
        template_salt: Uint8Array | null;
        template_key_id: string | null;
      }>('SELECT status, template_salt, template_key_id FROM deployments WHERE id = $1', [deploymentId]);
      const row = rows[0];
      template =
        row?.template_salt && row.template_key_id
          ? { salt: Buffer.from(row.template_salt), keyId: row.template_key_id }
          : null;
      if (this.#salts.size >= CACHED_SALTS) this.#salts.clear();
      // The salt is written when the deployment starts: until then it is asked again.
      if (row && row.status !== 'planned') this.#salts.set(deploymentId, template);
    }
    return snapshotProbe(this.#templates, template, vector);
  }

  async deployment(deploymentId: string): Promise<DeploymentInfo | undefined> {
    const { rows } = await this.db.query<{
      id: string;
      status: DeploymentInfo['status'];
      threshold: number;
      model: string;
    }>(`SELECT id, status, threshold, model FROM deployments WHERE id = $1`, [deploymentId]);
    const row = rows[0];
    return row ? { ...row, threshold: Number(row.threshold) } : undefined;
  }

  async size(deploymentId: string, model: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM snapshot_entries WHERE deployment_id = $1 AND model = $2`,
      [deploymentId, model],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Every subject scoring at or above `threshold`, best entry per subject, best first; exact. */
  async matchExact(
    deploymentId: string,
    model: string,
    vector: ArrayLike<number>,
    threshold: number,
  ): Promise<SnapshotMatch[]> {
    // The threshold filters inside the scan (as a cosine distance), so only matches are sorted
    // and de-duplicated: with nearly every face a non-match, the cost is one pass of distances.
    const probe = await this.#probe(deploymentId, vector);
    const { rows } = await this.db.query<MatchRow>(
      `SELECT subject_id, reference_image_id, label, category, priority, score FROM (
         SELECT DISTINCT ON (subject_id) subject_id, reference_image_id, label, category, priority,
                1 - (embedding <=> $1::vector) AS score
           FROM snapshot_entries
          WHERE deployment_id = $2 AND model = $3 AND vector_dims(embedding) = $4
            AND (embedding <=> $1::vector) <= $5
          ORDER BY subject_id, embedding <=> $1::vector
       ) best
       WHERE score >= $6
       ORDER BY score DESC`,
      [toVectorParam(probe), deploymentId, model, vector.length, 1 - threshold + 1e-9, threshold],
    );
    return rows.map(toMatch);
  }

  /** As {@link matchExact}, through the model's HNSW index: approximate, for large snapshots. */
  async matchHnsw(
    deploymentId: string,
    model: string,
    vector: ArrayLike<number>,
    threshold: number,
  ): Promise<SnapshotMatch[]> {
    const dims = vector.length;
    if (!MODEL_ID.test(model) || !Number.isInteger(dims) || dims < 1 || dims > 16_000) {
      return this.matchExact(deploymentId, model, vector, threshold);
    }
    await this.ensureHnswIndex(model, dims);
    const probe = await this.#probe(deploymentId, vector);
    // The model id is inlined (checked against MODEL_ID above) so the planner can use the partial index.
    return this.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL hnsw.ef_search = ${HNSW_EF_SEARCH}`);
      // pgvector 0.8: keep scanning the graph until enough rows pass the deployment filter.
      await tx.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      const { rows } = await tx.query<MatchRow>(
        `SELECT subject_id, reference_image_id, label, category, priority,
                1 - ((embedding::vector(${dims})) <=> $1::vector(${dims})) AS score
           FROM snapshot_entries
          WHERE model = '${model}' AND vector_dims(embedding) = ${dims} AND deployment_id = $2
          ORDER BY (embedding::vector(${dims})) <=> $1::vector(${dims})
          LIMIT ${HNSW_CANDIDATES}`,
        [toVectorParam(probe), deploymentId],
      );
      const best = new Map<string, SnapshotMatch>();
      for (const row of rows) {
        const match = toMatch(row);
        if (match.score < threshold) continue;
        const seen = best.get(match.subjectId);
        if (!seen || seen.score < match.score) best.set(match.subjectId, match);
      }
      return [...best.values()].sort((a, b) => b.score - a.score);
    });
  }

  /** Creates the HNSW expression index of one model's embeddings, once per process. */
  ensureHnswIndex(model: string, dimensions: number): Promise<void> {
    const name = hnswIndexName(model, dimensions);
    let ready = this.#indexes.get(name);
    if (!ready) {
      ready = this.db
        .query(
          `CREATE INDEX IF NOT EXISTS ${name} ON snapshot_entries
             USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops)
             WHERE model = '${model}' AND vector_dims(embedding) = ${dimensions}`,
        )
        .then(() => undefined);
      ready.catch(() => this.#indexes.delete(name));
      this.#indexes.set(name, ready);
    }
    return ready;
  }
}

interface MatchRow {
  subject_id: string;
  reference_image_id: string;
  label: string;
  category: string;
  priority: string;
  score: number | string;
}

function toMatch(row: MatchRow): SnapshotMatch {
  return {
    subjectId: row.subject_id,
    referenceImageId: row.reference_image_id,
    label: row.label,
    category: row.category,
    priority: row.priority,
    score: Number(row.score),
  };
}
