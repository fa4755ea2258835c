import { AuditRepository, migrate } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { describe, expect, it } from 'vitest';
import { INIT_SQL, openRolesDatabase } from './postgres-roles.js';

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
    const database = await openRolesDatabase();
    try {
      // Twice: the file is idempotent.
      await database.superuser.query(INIT_SQL);
      await database.superuser.query(INIT_SQL);
      await database.setPasswords(['vigil_app', 'vigil_migrate']);

      const migrator = database.connect('vigil_migrate');
      expect((await migrate(migrator)).length).toBeGreaterThan(0);

      const app = database.connect('vigil_app');
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
      await database.close();
    }
  });
});
