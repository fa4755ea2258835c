import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PostgresDatabase } from '@vigil/core';
import { createTestDatabase } from '@vigil/core/testing';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** deploy/postgres/init.sql as deployments run it: the extension, the roles and their grants. */
export const INIT_SQL = fs.readFileSync(path.join(ROOT, 'deploy/postgres/init.sql'), 'utf8');

export interface RolesDatabase {
  /** The database's superuser, which runs init.sql. */
  superuser: pg.Client;
  /** Gives each role the database's one random password, so `connect` can log in as it. */
  setPasswords(roles: readonly string[]): Promise<void>;
  /** Connects as `role` (closed by `close`). */
  connect(role: string): PostgresDatabase;
  /** Closes every connection, newest first, and drops the database. */
  close(): Promise<void>;
}

/** A fresh, unmigrated PostgreSQL database (DATABASE_URL's server) for running init.sql and logging in as its roles. */
export async function openRolesDatabase(): Promise<RolesDatabase> {
  const { url, drop } = await createTestDatabase({ migrate: false });
  const superuser = new pg.Client({ connectionString: url });
  await superuser.connect();
  const password = `v${Math.random().toString(36).slice(2)}x`;
  const open: PostgresDatabase[] = [];
  return {
    superuser,
    async setPasswords(roles) {
      for (const role of roles) await superuser.query(`ALTER ROLE ${role} PASSWORD '${password}'`);
    },
    connect(role) {
      const target = new URL(url as string);
      target.username = role;
      target.password = password;
      const db = new PostgresDatabase(target.toString());
      open.push(db);
      return db;
    },
    async close() {
      for (const db of open.reverse()) await db.close().catch(() => {});
      await superuser.end();
      await drop();
    },
  };
}
