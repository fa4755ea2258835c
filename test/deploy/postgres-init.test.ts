import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditRepository, migrate, PostgresDatabase } from '@vigil/core';
import { backendName, createTestDatabase } from '@vigil/core/testing';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INIT_SQL = fs.readFileSync(path.join(ROOT, 'deploy/postgres/init.sql'), 'utf8');

describe(`deploy/postgres/init.sql (${backendName})`, () => {
  it('states the extension, both roles and the append-only audit_log grants', () => {
    expect(INIT_SQL).toMatch(/CREATE EXTENSION IF NOT EXISTS vector;/);
    expect(INIT_SQL).toMatch(/CREATE ROLE vigil_migrate LOGIN/);
    expect(INIT_SQL).toMatch(/CREATE ROLE vigil_app LOGIN/);
    expect(INIT_SQL).toMatch(/REVOKE UPDATE, DELETE, TRUNCATE ON public\.audit_log FROM vigil_app;/);
    expect(INIT_SQL).not.toMatch(/PASSWORD '/);
  });

  it('on PostgreSQL: the migration role migrates, the application role works but cannot alter the audit trail or the schema', async () => {
    if (!process.env.DATABASE_URL) {
      // PGlite has no roles or event triggers to check; the postgres+nats run holds this test.
      expect(backendName.startsWith('pglite')).toBe(true);
      return;
    }
    const { url, drop } = await createTestDatabase({ migrate: false });
    const superuser = new pg.Client({ connectionString: url });
    await superuser.connect();
    const password = `v${Math.random().toString(36).slice(2)}x`;
    const as = (role: string) => {
      const target = new URL(url as string);
      target.username = role;
      target.password = password;
      return target.toString();
    };
    let migrator: PostgresDatabase | undefined;
    let app: PostgresDatabase | undefined;
    try {
      // Twice: the file is idempotent.
      await superuser.query(INIT_SQL);
      await superuser.query(INIT_SQL);
      await superuser.query(`ALTER ROLE vigil_app PASSWORD '${password}'`);
      await superuser.query(`ALTER ROLE vigil_migrate PASSWORD '${password}'`);

      migrator = new PostgresDatabase(as('vigil_migrate'));
      expect((await migrate(migrator)).length).toBeGreaterThan(0);

      app = new PostgresDatabase(as('vigil_app'));
      expect(await migrate(app).catch((error: { code?: string }) => error.code)).toBe('42501');
      const audit = new AuditRepository(app);
      await audit.append({ action: 'deploy.test', actorId: null, details: { ok: true } });
      const rows = await app.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
      expect(rows.rows[0]?.n).toBe(1);
      await app.query(
        "INSERT INTO watchlists (name, description) VALUES ('deploy test', 'written by the application role')",
      );
      expect((await app.query('DELETE FROM watchlists')).rowCount).toBe(1);

      for (const statement of [
        'UPDATE audit_log SET action = action',
        'DELETE FROM audit_log',
        'TRUNCATE audit_log',
      ]) {
        const error = await app.query(statement).then(
          () => undefined,
          (caught: { code?: string; message?: string }) => caught,
        );
        expect(error?.code, statement).toBe('42501');
        expect(error?.message, statement).toMatch(/permission denied for table audit_log/);
      }
      const create = await app
        .query('CREATE TABLE sneaky (id int)')
        .catch((caught: { code?: string }) => caught);
      expect((create as { code?: string }).code).toBe('42501');
    } finally {
      await app?.close();
      await migrator?.close();
      await superuser.end();
      await drop();
    }
  });
});
