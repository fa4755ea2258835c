import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AuditCheckpointRepository,
  AuditRepository,
  auditHash,
  type Database,
  loadAuditSigner,
  migrate,
  PgliteDatabase,
  type Queryable,
} from '@vigil/core';
import { backendName, createTestDatabase } from '@vigil/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrailService } from '../../src/oversight/audit-trail.service.js';
import { createRepositories } from '../../src/repositories.js';
import { bearer, createTestApp, type TestApp } from '../test-app.js';
import { createDeployment, createWatchlist, testCipher } from './fixtures.js';

const VIGIL_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../cli/bin/vigil.mjs');

/** Changes audit_log the way an attacker with superuser would: past the append-only trigger. */
async function asSuperuser(db: Database, work: (tx: Queryable) => Promise<unknown>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await work(tx);
  });
}

const COLUMNS = 'at, actor_id, actor_name, action, target_type, target_id, details, prev_hash, hash';

/**
 * Rewrites row `id` with `change` and recomputes its hash and every later row's, as someone who
 * knows the (public) hashing scheme and bypasses the triggers would: the chain alone still verifies.
 */
async function rewriteAndRehash(db: Database, id: number, change: { action: string }): Promise<void> {
  const { rows } = await db.query<Record<string, unknown>>(
    'SELECT * FROM audit_log WHERE id >= $1 ORDER BY id',
    [id],
  );
  let prevHash = rows[0]?.prev_hash as string;
  await asSuperuser(db, async (tx) => {
    for (const row of rows) {
      const rewritten = {
        at: new Date(row.at as string).toISOString(),
        actorId: row.actor_id as string | null,
        actorName: row.actor_name as string,
        action: Number(row.id) === id ? change.action : (row.action as string),
        targetType: row.target_type as string,
        targetId: row.target_id as string,
        details: row.details as Record<string, unknown>,
        prevHash,
      };
      prevHash = auditHash(rewritten);
      await tx.query('UPDATE audit_log SET action = $2, prev_hash = $3, hash = $4 WHERE id = $1', [
        row.id,
        rewritten.action,
        rewritten.prevHash,
        prevHash,
      ]);
    }
  });
}

/** Puts audit_log back to `rows` (ids included) after a tampering test. */
async function restore(db: Database, rows: Record<string, unknown>[]): Promise<void> {
  await asSuperuser(db, async (tx) => {
    await tx.query('DELETE FROM audit_log');
    for (const row of rows)
      await tx.query(
        `INSERT INTO audit_log (id, ${COLUMNS}) OVERRIDING SYSTEM VALUE
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`,
        [
          row.id,
          row.at,
          row.actor_id,
          row.actor_name,
          row.action,
          row.target_type,
          row.target_id,
          JSON.stringify(row.details),
          row.prev_hash,
          row.hash,
        ],
      );
  });
}

describe(`audit trail routes, tampering and threshold governance (${backendName})`, () => {
  let t: TestApp;
  let audit: AuditRepository;
  let pristine: Record<string, unknown>[];
  let ids: number[];

  let trail: AuditTrailService;

  beforeAll(async () => {
    t = await createTestApp();
    audit = new AuditRepository(t.deps.db);
    // The app's own key file and checkpoint file: what its timer and routes sign and check.
    trail = new AuditTrailService(createRepositories(t.deps.db), {
      signer: loadAuditSigner({ dataDir: t.dataDir }),
      store: new AuditCheckpointRepository(t.dataDir),
    });
    for (let i = 0; i < 4; i++)
      await audit.append({
        actorName: 'admin',
        action: 'watchlist.update',
        targetType: 'watchlist',
        targetId: `w${i}`,
        details: { i },
      });
    pristine = (await t.deps.db.query<Record<string, unknown>>('SELECT * FROM audit_log ORDER BY id')).rows;
    ids = pristine.map((row) => Number(row.id));
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('tampering', () => {
    beforeEach(async () => {
      await restore(t.deps.db, pristine);
      expect(await audit.verify()).toEqual({ ok: true, entries: pristine.length });
    });

    it('the application cannot update, delete or truncate audit rows', async () => {
      const db = t.deps.db;
      await expect(db.query(`UPDATE audit_log SET action = 'x' WHERE id = $1`, [ids[2]])).rejects.toThrow(
        /append-only/,
      );
      await expect(db.query('DELETE FROM audit_log WHERE id = $1', [ids[2]])).rejects.toThrow(/append-only/);
      await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
      expect((await db.query('SELECT count(*)::int AS n FROM audit_log')).rows[0]).toEqual({
        n: pristine.length,
      });
    });

    it('an altered row is named', async () => {
      const victim = ids[3]!;
      await asSuperuser(t.deps.db, (tx) =>
        tx.query(`UPDATE audit_log SET actor_name = 'someone else' WHERE id = $1`, [victim]),
      );
      expect(await audit.verify()).toEqual({
        ok: false,
        entries: 3,
        firstBad: { id: victim, reason: 'hash_mismatch' },
      });
    });

    it('an altered row whose hash was recomputed breaks the link of the next row', async () => {
      const victim = pristine[4]!;
      const { auditHash } = await import('@vigil/core');
      const forged = {
        at: new Date(victim.at as string).toISOString(),
        actorId: victim.actor_id as string | null,
        actorName: victim.actor_name as string,
        action: 'nothing.happened',
        targetType: victim.target_type as string,
        targetId: victim.target_id as string,
        details: victim.details as Record<string, unknown>,
        prevHash: victim.prev_hash as string,
      };
      await asSuperuser(t.deps.db, (tx) =>
        tx.query('UPDATE audit_log SET action = $2, hash = $3 WHERE id = $1', [
          victim.id,
          forged.action,
          auditHash(forged),
        ]),
      );
      expect(await audit.verify()).toEqual({
        ok: false,
        entries: 5,
        firstBad: { id: ids[5], reason: 'chain_broken' },
      });
    });

    it('a deleted row is caught at the row after it', async () => {
      await asSuperuser(t.deps.db, (tx) => tx.query('DELETE FROM audit_log WHERE id = $1', [ids[2]]));
      expect(await audit.verify()).toEqual({
        ok: false,
        entries: 2,
        firstBad: { id: ids[3], reason: 'chain_broken' },
      });
    });

    it('two rows whose contents were swapped are caught at the first of them', async () => {
      const [a, b] = [ids[1]!, ids[4]!];
      await asSuperuser(t.deps.db, async (tx) => {
        await tx.query(
          `UPDATE audit_log AS x SET (${COLUMNS}) = (SELECT ${COLUMNS} FROM audit_log y WHERE y.id = CASE WHEN x.id = $1 THEN $2::bigint ELSE $1::bigint END)
            WHERE x.id IN ($1, $2)`,
          [a, b],
        );
      });
      const swapped = await t.deps.db.query<{ id: number; hash: string }>(
        'SELECT id, hash FROM audit_log WHERE id IN ($1, $2) ORDER BY id',
        [a, b],
      );
      expect(swapped.rows.map((r) => r.hash)).toEqual([pristine[4]!.hash, pristine[1]!.hash]);
      expect(await audit.verify()).toEqual({
        ok: false,
        entries: 1,
        firstBad: { id: a, reason: 'chain_broken' },
      });
    });

    it('GET /audit/verify reports the broken chain to oversight', async () => {
      await asSuperuser(t.deps.db, (tx) =>
        tx.query(`UPDATE audit_log SET details = '{"i":99}'::jsonb WHERE id = $1`, [ids.at(-1)]),
      );
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/audit/verify',
        headers: bearer(t.tokens.oversight),
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        ok: false,
        entries: ids.length - 1,
        firstBad: { id: ids.at(-1), reason: 'hash_mismatch' },
      });
    });

    it('a maintenance delete of the newest row passes the trigger but not verify (regression: verify said ok)', async () => {
      const checkpoint = await trail.checkpoint();
      expect(checkpoint).toMatchObject({ headId: ids.at(-1), entries: ids.length });
      await t.deps.db.transaction(async (tx) => {
        await tx.query('SET LOCAL vigil.audit_maintenance = on');
        await tx.query('DELETE FROM audit_log WHERE id = $1', [ids.at(-1)]);
      });
      // The chain alone cannot tell a shorter trail from a complete one; the signed checkpoint can.
      expect(await audit.verify()).toEqual({ ok: true, entries: ids.length - 1 });
      expect(await trail.verify()).toEqual({
        ok: false,
        entries: ids.length - 1,
        firstBad: { id: ids.at(-1), reason: 'truncated' },
        checkpoint,
      });
    });

    it('the newest rows deleted by a superuser past the triggers: GET /audit/verify and the checkpoint route say so', async () => {
      const checkpoint = await trail.checkpoint();
      await asSuperuser(t.deps.db, (tx) => tx.query('DELETE FROM audit_log WHERE id >= $1', [ids.at(-2)]));
      const verify = await t.app.inject({
        method: 'GET',
        url: '/api/v1/audit/verify',
        headers: bearer(t.tokens.oversight),
      });
      expect(verify.json()).toEqual({
        ok: false,
        entries: ids.length - 2,
        firstBad: { id: ids.at(-1), reason: 'truncated' },
        checkpoint,
      });
      // The server signs no shorter head over the evidence.
      const latest = await t.app.inject({
        method: 'GET',
        url: '/api/v1/audit/checkpoint',
        headers: bearer(t.tokens.oversight),
      });
      expect(latest.json()).toEqual({ checkpoint: null });
      expect(new AuditCheckpointRepository(t.dataDir).read()).toEqual(checkpoint);
    });

    it('a row rewritten with every later hash recomputed is caught at the signed checkpoint', async () => {
      const checkpoint = await trail.checkpoint();
      await rewriteAndRehash(t.deps.db, ids[2]!, { action: 'nothing.happened' });
      expect(await audit.verify()).toEqual({ ok: true, entries: ids.length });
      expect(await trail.verify()).toEqual({
        ok: false,
        entries: ids.length - 1,
        firstBad: { id: ids.at(-1), reason: 'checkpoint_mismatch' },
        checkpoint,
      });
      // Rewriting it back gives the signed head again.
      await rewriteAndRehash(t.deps.db, ids[2]!, { action: pristine[2]!.action as string });
      expect((await trail.verify()).ok).toBe(true);
    });

    it('a checkpoint this audit key did not sign is refused', async () => {
      const store = new AuditCheckpointRepository(t.dataDir);
      const genuine = await trail.checkpoint();
      expect(genuine).toBeDefined();
      try {
        store.write({ ...genuine!, entries: genuine!.entries - 1 });
        expect(await trail.verify()).toEqual({
          ok: false,
          entries: 0,
          firstBad: { id: 0, reason: 'checkpoint_invalid' },
        });
        fs.writeFileSync(store.file, 'not json');
        expect((await trail.verify()).firstBad?.reason).toBe('checkpoint_invalid');
      } finally {
        store.write(genuine!);
      }
      expect((await trail.verify()).ok).toBe(true);
    });

    it('GET /audit/checkpoint hands oversight a checkpoint the audit key signed', async () => {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/v1/audit/checkpoint',
        headers: bearer(t.tokens.oversight),
      });
      expect(response.statusCode).toBe(200);
      const { checkpoint } = response.json();
      expect(checkpoint).toMatchObject({
        headId: ids.at(-1),
        headHash: pristine.at(-1)!.hash,
        entries: ids.length,
      });
      expect(loadAuditSigner({ dataDir: t.dataDir }).isGenuine(checkpoint)).toBe(true);
      expect(loadAuditSigner({ dataDir: t.dataDir }).isGenuine({ ...checkpoint, headId: 1 })).toBe(false);
    });
  });

  describe('GET /audit', () => {
    beforeAll(async () => {
      await restore(t.deps.db, pristine);
    });
    const get = (url: string, role: keyof TestApp['tokens'] = 'oversight') =>
      t.app.inject({ method: 'GET', url, headers: bearer(t.tokens[role]) });

    it('lists newest first with filters and pages', async () => {
      const all = (await get('/api/v1/audit')).json();
      expect(all.entries.map((e: { id: number }) => e.id)).toEqual([...ids].reverse());
      expect(all.nextBeforeId).toBeNull();

      const logins = (await get('/api/v1/audit?action=auth.login')).json();
      // One login per role the test app signs in.
      expect(logins.entries.length).toBe(Object.keys(t.tokens).length);
      expect(logins.entries.every((e: { action: string }) => e.action === 'auth.login')).toBe(true);

      const byName = (await get('/api/v1/audit?actor=oversight-user')).json();
      expect(byName.entries.map((e: { action: string }) => e.action)).toContain('auth.login');
      const id = byName.entries[0].actorId;
      expect((await get(`/api/v1/audit?actor=${id}`)).json().entries.length).toBe(byName.entries.length);

      expect((await get('/api/v1/audit?target=w2')).json().entries).toHaveLength(1);
      expect(
        (await get('/api/v1/audit?targetType=watchlist&action=watchlist.update')).json().entries,
      ).toHaveLength(4);

      const first = (await get('/api/v1/audit?limit=3')).json();
      expect(first.entries).toHaveLength(3);
      const second = (await get(`/api/v1/audit?limit=3&beforeId=${first.nextBeforeId}`)).json();
      expect(second.entries[0].id).toBe(first.entries[2].id - 1);

      const future = (await get('/api/v1/audit?from=2999-01-01')).json();
      expect(future.entries).toEqual([]);
      const past = (await get('/api/v1/audit?to=2000-01-01')).json();
      expect(past.entries).toEqual([]);
      expect((await get('/api/v1/audit?from=2999-01-01&to=2000-01-01')).statusCode).toBe(400);
      expect((await get('/api/v1/audit?limit=0')).statusCode).toBe(400);
    });

    it('is for oversight and admin only', async () => {
      for (const url of ['/api/v1/audit', '/api/v1/audit/verify']) {
        expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
        expect((await get(url, 'operator')).statusCode).toBe(403);
        expect((await get(url, 'watchlist_manager')).statusCode).toBe(403);
        expect((await get(url, 'admin')).statusCode).toBe(200);
      }
    });
  });

  describe('threshold governance', () => {
    it('a change is refused below the floor and audited with the old and new values', async () => {
      const list = await createWatchlist(t.deps.db, testCipher(), [
        { label: 'Eve Example', category: 'wanted' },
      ]);
      const running = await createDeployment(t.deps.db, {
        watchlistId: list.id,
        cameras: 1,
        threshold: 0.6,
        startedAt: new Date(),
      });
      const patch = (threshold: number, role: keyof TestApp['tokens'] = 'admin', id = running.id) =>
        t.app.inject({
          method: 'PATCH',
          url: `/api/v1/deployments/${id}/threshold`,
          headers: bearer(t.tokens[role]),
          payload: { threshold, reason: 'fewer false alerts at this site' },
        });
      const floor = t.deps.config.VIGIL_THRESHOLD_FLOOR as number;
      const refused = await patch(floor - 0.01);
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.code).toBe('threshold_below_floor');
      expect((await patch(1.5)).statusCode).toBe(400);
      expect((await patch(0.7, 'oversight')).statusCode).toBe(403);
      // Authentication comes before validation: an anonymous caller learns nothing from a 400.
      const anonymous = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/deployments/${running.id}/threshold`,
        payload: {},
      });
      expect(anonymous.statusCode).toBe(401);
      expect((await patch(0.7, 'admin', '00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);

      const changed = await patch(0.7);
      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toEqual({ deploymentId: running.id, previousThreshold: 0.6, threshold: 0.7 });
      const stored = await t.deps.db.query<{ threshold: number }>(
        'SELECT threshold FROM deployments WHERE id = $1',
        [running.id],
      );
      expect(stored.rows[0]?.threshold).toBeCloseTo(0.7, 6);
      const [entry] = await audit.list({ action: 'deployment.threshold_change', targetId: running.id });
      expect(entry).toMatchObject({
        actorName: 'admin',
        targetType: 'deployment',
        details: { from: 0.6, to: 0.7, floor, reason: 'fewer false alerts at this site', status: 'running' },
      });
      expect(await audit.list({ action: 'deployment.threshold_change', targetId: running.id })).toHaveLength(
        1,
      );

      await t.deps.db.query(`UPDATE deployments SET status = 'stopped', stopped_at = now() WHERE id = $1`, [
        running.id,
      ]);
      const afterStop = await patch(0.8);
      expect(afterStop.statusCode).toBe(409);
      expect(afterStop.json().error.code).toBe('invalid_deployment_state');
    });
  });
});

describe(`npx vigil audit verify (${backendName})`, () => {
  let dataDir: string;
  let db: Database;
  let env: NodeJS.ProcessEnv;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-cli-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, VIGIL_DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
    if (process.env.DATABASE_URL) {
      const testDb = await createTestDatabase();
      db = testDb.db;
      env.DATABASE_URL = testDb.url;
      drop = () => testDb.drop();
    } else {
      db = await PgliteDatabase.open(path.join(dataDir, 'db'));
      await migrate(db);
      drop = () => db.close();
    }
    const audit = new AuditRepository(db);
    for (let i = 0; i < 3; i++)
      await audit.append({ actorName: 'admin', action: 'subject.create', targetId: `s${i}` });
  }, 60_000);
  afterAll(async () => {
    if (drop) await drop();
    else await db?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  // PGlite takes one process at a time: the test closes its handle while the CLI runs.
  async function runCli(): Promise<{ status: number | null; stdout: string }> {
    if (db instanceof PgliteDatabase) await db.close();
    const result = spawnSync(process.execPath, [VIGIL_BIN, 'audit', 'verify'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (db instanceof PgliteDatabase) db = await PgliteDatabase.open(path.join(dataDir, 'db'));
    return { status: result.status, stdout: result.stdout };
  }

  it('exits 0 on an intact trail and 1 naming the first altered row', async () => {
    const intact = await runCli();
    expect(intact.stdout).toBe('audit trail intact: 3 entries, no signed checkpoint yet\n');
    expect(intact.status).toBe(0);
    const held = await runCli();
    expect(held.stdout).toMatch(
      /^audit trail intact: 3 entries, held to the checkpoint signed \S+ at row \d+ \(3 entries\)\n$/,
    );

    const { rows } = await db.query<{ id: number }>('SELECT id FROM audit_log ORDER BY id');
    const second = Number(rows[1]?.id);
    await asSuperuser(db, (tx) => tx.query(`UPDATE audit_log SET target_id = 's9' WHERE id = $1`, [second]));
    const broken = await runCli();
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(`audit trail BROKEN at row ${second} (hash_mismatch)`);
    expect(broken.stdout).toContain('subject.create :s9');
    await asSuperuser(db, (tx) => tx.query(`UPDATE audit_log SET target_id = 's1' WHERE id = $1`, [second]));
  }, 120_000);

  it('exits 1 when a superuser deleted the newest row or rewrote a row and every later hash (regression)', async () => {
    const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM audit_log ORDER BY id');
    const last = rows.at(-1)!;
    expect((await runCli()).status).toBe(0);

    await asSuperuser(db, (tx) => tx.query('DELETE FROM audit_log WHERE id = $1', [last.id]));
    const truncated = await runCli();
    expect(truncated.status).toBe(1);
    expect(truncated.stdout).toContain(`audit trail BROKEN at row ${last.id} (truncated)`);
    await restore(db, rows);
    expect((await runCli()).status).toBe(0);

    await rewriteAndRehash(db, Number(rows[0]!.id), { action: 'nothing.happened' });
    const rewritten = await runCli();
    expect(rewritten.status).toBe(1);
    expect(rewritten.stdout).toContain(`audit trail BROKEN at row ${last.id} (checkpoint_mismatch)`);
  }, 120_000);
});
