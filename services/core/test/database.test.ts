import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMigrations, toVectorParam } from '../src/index.js';
import { backendName, createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe(`database (${backendName})`, () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('the migration runner creates every table and records every migration once', async () => {
    const { rows } = await t.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const tables = rows.map((r) => r.table_name);
    for (const name of [
      'users',
      'watchlists',
      'subjects',
      'reference_images',
      'embeddings',
      'deployments',
      'cameras',
      'snapshot_entries',
      'alerts',
      'adjudications',
      'audit_log',
      'deployment_counters',
    ]) {
      expect(tables).toContain(name);
    }
    const applied = await t.db.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    expect(applied.rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
    const { migrate } = await import('../src/db/migrate.js');
    expect(await migrate(t.db)).toEqual([]);
  });

  it('a cosine nearest-neighbour query with pgvector returns the closest row', async () => {
    await t.db.query('CREATE TEMP TABLE probe_vectors (name text, v vector(3))');
    const rows: [string, number[]][] = [
      ['east', [1, 0, 0]],
      ['north', [0, 1, 0]],
      ['up', [0, 0, 1]],
      ['north-east', [0.7071, 0.7071, 0]],
    ];
    for (const [name, v] of rows) {
      await t.db.query('INSERT INTO probe_vectors VALUES ($1, $2::vector)', [name, toVectorParam(v)]);
    }
    const nearest = await t.db.query<{ name: string; similarity: number }>(
      'SELECT name, 1 - (v <=> $1::vector) AS similarity FROM probe_vectors ORDER BY v <=> $1::vector LIMIT 1',
      [toVectorParam([0.1, 0.95, 0.05])],
    );
    expect(nearest.rows[0]?.name).toBe('north');
    expect(nearest.rows[0]?.similarity).toBeGreaterThan(0.98);
  });

  it('a transaction that throws leaves nothing written', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO watchlists (name) VALUES ('half-written')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await t.db.query(`SELECT 1 FROM watchlists WHERE name = 'half-written'`);
    expect(rows).toHaveLength(0);
  });
});
