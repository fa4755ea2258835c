import { createLogger, migrate } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { CameraRepository } from '@vigil/ingest';
import { DeploymentCounters, MatchedAlertRepository, SnapshotRepository } from '@vigil/matcher';
import { describe, expect, it } from 'vitest';
import { INIT_SQL, openRolesDatabase } from './postgres-roles.js';

const WORKERS = ['vigil_ingest', 'vigil_detector', 'vigil_embedder', 'vigil_matcher'] as const;

/** The statement's SQLSTATE, or 'ok' when it ran. */
const outcome = (run: Promise<unknown>) =>
  run.then(
    () => 'ok',
    (error: { code?: string }) => error.code ?? 'error',
  );

/**
 * Issue #22 item 2: each pipeline role its own database user with only the grants its code needs.
 * The roles come from deploy/postgres/init.sql, exactly as deployments create them.
 */
describe(`per-role database users from deploy/postgres/init.sql (${backendName})`, () => {
  it('creates one login role per pipeline role', () => {
    for (const role of WORKERS) expect(INIT_SQL).toMatch(new RegExp(`CREATE ROLE ${role} LOGIN NOSUPERUSER`));
  });

  it('on PostgreSQL: a worker cannot write sessions or read users; each does its own work', async () => {
    if (!process.env.DATABASE_URL) {
      // PGlite has no roles; the postgres+nats run holds this test.
      expect(backendName.startsWith('pglite')).toBe(true);
      return;
    }
    const database = await openRolesDatabase();
    const { superuser } = database;
    const as = (role: string) => database.connect(role);
    try {
      await superuser.query(INIT_SQL);
      await database.setPasswords(['vigil_migrate', 'vigil_app', ...WORKERS]);
      await migrate(as('vigil_migrate'));
      // A deployment with a camera, a snapshot entry and a user, written as the API would.
      const seeded = await superuser.query<{
        deployment: string;
        camera: string;
        subject: string;
        user: string;
      }>(
        `WITH d AS (INSERT INTO deployments (name, location, threshold, model, status)
                    VALUES ('roles', 'High Street', 0.5, 'test-model', 'running') RETURNING id),
              c AS (INSERT INTO cameras (deployment_id, name, url) SELECT id, 'gate', '/tmp/none.mp4' FROM d RETURNING id),
              w AS (INSERT INTO watchlists (name) VALUES ('roles list') RETURNING id),
              s AS (INSERT INTO subjects (watchlist_id, label, category, priority) SELECT id, 'Jane Roe', 'wanted', 'red' FROM w RETURNING id),
              u AS (INSERT INTO users (username, password_hash, role) VALUES ('roles-admin', 'x', 'admin') RETURNING id)
         SELECT (SELECT id FROM d) AS deployment, (SELECT id FROM c) AS camera, (SELECT id FROM s) AS subject,
                (SELECT id FROM u) AS user`,
      );
      const { deployment, camera, subject, user } = seeded.rows[0]!;

      for (const role of WORKERS) {
        const worker = as(role);
        // A forged login: a session row with a token hash the attacker knows.
        expect(
          await outcome(
            worker.query(
              `INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1, 'forged', now() + interval '1 day')`,
              [user],
            ),
          ),
          `${role} inserts a session`,
        ).toBe('42501');
        expect(await outcome(worker.query('SELECT password_hash FROM users')), `${role} reads users`).toBe(
          '42501',
        );
        expect(await outcome(worker.query(`UPDATE users SET role = 'admin'`)), `${role} updates users`).toBe(
          '42501',
        );
        expect(
          await outcome(worker.query(`INSERT INTO audit_log (action, details) VALUES ('forged', '{}')`)),
          `${role} writes the audit trail`,
        ).toBe('42501');
        expect(await outcome(worker.query('SELECT label FROM subjects')), `${role} reads subjects`).toBe(
          '42501',
        );
      }

      // Each role still does what its code does, through the code's own repositories.
      const ingest = as('vigil_ingest');
      expect((await new CameraRepository(ingest).listRunningCameras()).map((c) => c.id)).toContain(camera);
      expect(await outcome(ingest.query(`UPDATE cameras SET url = 'rtsp://evil/'`))).toBe('42501');

      const matcher = as('vigil_matcher');
      expect(await new SnapshotRepository(matcher).deployment(deployment)).toMatchObject({ id: deployment });
      const stored = await new MatchedAlertRepository(matcher).store(
        {
          deploymentId: deployment,
          cameraId: camera,
          subjectId: subject,
          referenceImageId: '00000000-0000-4000-8000-000000000001',
          trackId: 't1',
          label: 'Jane Roe',
          category: 'wanted',
          priority: 'red',
          score: 0.7,
          threshold: 0.5,
          capturedAt: new Date(),
          encryptedProbe: new Uint8Array([1, 2, 3]),
          dedupeKey: 'roles-test-1',
        },
        30,
      );
      expect('stored' in stored).toBe(true);
      if ('stored' in stored) await new MatchedAlertRepository(matcher).markPublished(stored.stored.id);
      expect(await outcome(matcher.query(`UPDATE alerts SET label = 'changed'`))).toBe('42501');
      expect(await outcome(matcher.query('DELETE FROM alerts'))).toBe('42501');

      for (const role of ['vigil_detector', 'vigil_matcher']) {
        const db = as(role);
        const counters = new DeploymentCounters(db, createLogger({ level: 'silent' }));
        counters.add(deployment, camera, { frames: 3 });
        await counters.flush();
        await counters.close();
      }
      const counted = await superuser.query<{ frames: number }>(
        'SELECT sum(frames)::int AS frames FROM deployment_counters',
      );
      expect(counted.rows[0]?.frames).toBe(6);
      const embedder = as('vigil_embedder');
      expect(await outcome(embedder.query('SELECT 1 FROM deployments'))).toBe('42501');
    } finally {
      await database.close();
    }
  });
});
