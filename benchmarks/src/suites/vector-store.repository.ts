import { type Database, migrate, PgliteDatabase, PostgresDatabase, toVectorParam } from '@vigil/core';
import pg from 'pg';

/** The one thing the matching benchmark needs from a database: SQL with parameters. */
export interface VectorStore {
  readonly backend: 'postgresql' | 'pglite';
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** The same database as Vigil's own repositories take it (for the matcher's query). */
  readonly database: Database;
  close(): Promise<void>;
}

/** Benchmark database on the PostgreSQL server: created on first use, kept so large tables are reused. */
export const BENCH_DATABASE = 'vigil_bench';

/** Opens (creating when needed) the benchmark's own database on the server `adminUrl` points at. */
export async function openPostgresStore(adminUrl: string): Promise<VectorStore> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [BENCH_DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  // One connection: latency is measured for one query at a time, as the matcher sends them.
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  const database = new PostgresDatabase(url.toString(), { max: 1 });
  return {
    backend: 'postgresql',
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    database,
    close: async () => {
      await client.end();
      await database.close();
    },
  };
}

/** An in-memory PGlite (PostgreSQL + pgvector in WebAssembly), as `npm start` embeds it. */
export async function openPgliteStore(): Promise<VectorStore> {
  const db = await PgliteDatabase.open();
  await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  return {
    backend: 'pglite',
    async query<T>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params)).rows;
    },
    database: db,
    close: () => db.close(),
  };
}

/** Table of `size` random unit vectors of `dimension`, with its build facts. */
export interface VectorTable {
  name: string;
  size: number;
  dimension: number;
  insertSeconds: number;
  hnswSeconds: number | undefined;
  /** Built by an earlier run and reused. */
  reused: boolean;
  builtAt: string;
}

const META_TABLE = 'bench_tables';

/**
 * Random unit vectors drawn in SQL (Gaussian by Box-Muller, then `l2_normalize`): generating a
 * million 128-d vectors in JavaScript and shipping them as text would cost more than the index.
 */
export async function ensureVectorTable(
  store: VectorStore,
  size: number,
  dimension: number,
  options: { fresh?: boolean } = {},
): Promise<VectorTable> {
  const name = `match_${size}_d${dimension}`;
  await store.query(
    `CREATE TABLE IF NOT EXISTS ${META_TABLE} (name text PRIMARY KEY, size int, dimension int, insert_seconds float8, hnsw_seconds float8, built_at timestamptz DEFAULT now())`,
  );
  const meta = await store.query<{ insert_seconds: number; hnsw_seconds: number | null; built_at: Date }>(
    `SELECT insert_seconds, hnsw_seconds, built_at FROM ${META_TABLE} WHERE name = $1`,
    [name],
  );
  const row = meta[0];
  if (row && !options.fresh) {
    return {
      name,
      size,
      dimension,
      insertSeconds: row.insert_seconds,
      hnswSeconds: row.hnsw_seconds ?? undefined,
      reused: true,
      builtAt: new Date(row.built_at).toISOString(),
    };
  }
  await store.query(`DROP TABLE IF EXISTS ${name}`);
  await store.query(`DELETE FROM ${META_TABLE} WHERE name = $1`, [name]);
  await store.query(`CREATE TABLE ${name} (id int PRIMARY KEY, embedding vector(${dimension}) NOT NULL)`);
  const started = performance.now();
  const batch = 50_000;
  for (let from = 1; from <= size; from += batch) {
    const to = Math.min(size, from + batch - 1);
    // The subquery refers to i so it is drawn again for every row.
    await store.query(
      `INSERT INTO ${name} SELECT i, l2_normalize(ARRAY(SELECT sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) FROM generate_series(1, ${dimension}) WHERE i > 0)::vector(${dimension})) FROM generate_series($1::int, $2::int) i`,
      [from, to],
    );
  }
  const insertSeconds = (performance.now() - started) / 1000;
  await store.query(
    `INSERT INTO ${META_TABLE} (name, size, dimension, insert_seconds) VALUES ($1, $2, $3, $4)`,
    [name, size, dimension, insertSeconds],
  );
  return {
    name,
    size,
    dimension,
    insertSeconds,
    hnswSeconds: undefined,
    reused: false,
    builtAt: new Date().toISOString(),
  };
}

/** Builds the HNSW index (pgvector defaults m=16, ef_construction=64, cosine) unless it exists. */
export async function ensureHnswIndex(store: VectorStore, table: VectorTable): Promise<number> {
  if (table.hnswSeconds !== undefined) return table.hnswSeconds;
  if (store.backend === 'postgresql') {
    // Room for the graph in memory: a build that spills to disk is many times slower.
    await store.query("SET maintenance_work_mem = '2GB'");
  }
  const started = performance.now();
  await store.query(
    `CREATE INDEX IF NOT EXISTS ${table.name}_hnsw ON ${table.name} USING hnsw (embedding vector_cosine_ops)`,
  );
  const seconds = (performance.now() - started) / 1000;
  await store.query(`UPDATE ${META_TABLE} SET hnsw_seconds = $2 WHERE name = $1`, [table.name, seconds]);
  table.hnswSeconds = seconds;
  return seconds;
}

/** Nearest `k` ids by cosine distance, as the matcher asks (`ORDER BY embedding <=> probe`). */
export async function nearest(
  store: VectorStore,
  table: VectorTable,
  probe: Float32Array,
  k: number,
): Promise<number[]> {
  const rows = await store.query<{ id: number }>(
    `SELECT id FROM ${table.name} ORDER BY embedding <=> $1::vector LIMIT ${k}`,
    [toVectorParam(probe)],
  );
  return rows.map((r) => r.id);
}

/** Forces an exact scan (index off) or lets the planner use HNSW, for this connection. */
export async function setExact(store: VectorStore, exact: boolean): Promise<void> {
  await store.query(`SET enable_indexscan = ${exact ? 'off' : 'on'}`);
}

/**
 * A running deployment whose frozen watchlist snapshot holds the vectors of `table`, in Vigil's own
 * schema (migrated into the same database), so the matcher's query can be timed as it runs.
 * Reused while it still holds every vector under `model`.
 */
export async function ensureSnapshot(store: VectorStore, table: VectorTable, model: string): Promise<string> {
  await migrate(store.database);
  const name = `bench ${table.name}`;
  const found = await store.query<{ id: string; n: number | string }>(
    `SELECT d.id, (SELECT count(*) FROM snapshot_entries s WHERE s.deployment_id = d.id AND s.model = $2) AS n
       FROM deployments d WHERE d.name = $1`,
    [name, model],
  );
  const existing = found[0];
  if (existing && Number(existing.n) === table.size) return existing.id;
  if (existing) await store.query('DELETE FROM deployments WHERE id = $1', [existing.id]);
  const created = await store.query<{ id: string }>(
    `INSERT INTO deployments (name, threshold, model, status, started_at)
     VALUES ($1, 0.91, $2, 'running', now()) RETURNING id`,
    [name, model],
  );
  const id = (created[0] as { id: string }).id;
  await store.query(
    `INSERT INTO snapshot_entries (deployment_id, subject_id, reference_image_id, label, category, priority, model, embedding)
     SELECT $1, gen_random_uuid(), gen_random_uuid(), 'bench ' || id, 'bench', 'amber', $2, embedding FROM ${table.name}`,
    [id, model],
  );
  await store.query('ANALYZE snapshot_entries');
  return id;
}
