import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AuditRepository, createLogger, type Database, migrate, PgliteDatabase } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionService, startRetentionSchedule } from '../../src/oversight/retention.service.js';
import { StatsService } from '../../src/oversight/stats.service.js';
import { createRepositories } from '../../src/repositories.js';
import { bearer, createTestApp } from '../test-app.js';
import {
  createDeployment,
  createWatchlist,
  recordAlert,
  type SeededAlert,
  type SeededDeployment,
  type SeededSubject,
  testCipher,
} from './fixtures.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const POLICY = { snapshotGraceHours: 24, alertRetentionDays: 31 };

async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM ${sql}`, params);
  return Number(rows[0]?.n);
}

interface World {
  dueByDate: SeededDeployment;
  notYetDue: SeededDeployment;
  dueByStopTime: SeededDeployment;
  running: SeededDeployment;
  expired: SeededSubject;
  keptSubjects: SeededSubject[];
  oldAlert: SeededAlert;
  keptAlerts: SeededAlert[];
}

/** Everything retention must judge, around NOW. */
async function seed(db: Database): Promise<World> {
  const cipher = testCipher();
  const list = await createWatchlist(db, cipher, [
    { label: 'Expired Person', category: 'missing', expiresAt: ago(60_000), images: 2 },
    { label: 'Expires Tomorrow', category: 'wanted', expiresAt: new Date(NOW.getTime() + DAY) },
    { label: 'Never Expires', category: 'suspect' },
  ]);
  const [expired, tomorrow, never] = list.subjects as [SeededSubject, SeededSubject, SeededSubject];
  const base = { watchlistId: list.id, cameras: 1 };
  const world: World = {
    dueByDate: await createDeployment(db, {
      ...base,
      startedAt: ago(30 * HOUR),
      stoppedAt: ago(25 * HOUR),
      snapshotDestroyAfter: ago(HOUR),
    }),
    notYetDue: await createDeployment(db, {
      ...base,
      startedAt: ago(30 * HOUR),
      stoppedAt: ago(23 * HOUR),
      snapshotDestroyAfter: new Date(NOW.getTime() + HOUR),
    }),
    // No destroy time recorded: the stop time plus the grace period decides.
    dueByStopTime: await createDeployment(db, {
      ...base,
      startedAt: ago(40 * HOUR),
      stoppedAt: ago(30 * HOUR),
    }),
    running: await createDeployment(db, { ...base, startedAt: ago(40 * DAY) }),
    expired,
    keptSubjects: [tomorrow, never],
    oldAlert: undefined as unknown as SeededAlert,
    keptAlerts: [],
  };
  const camera = world.running.cameraIds[0] as string;
  const alert = (subject: SeededSubject, capturedAt: Date, outcome?: string) =>
    recordAlert(db, cipher, {
      deploymentId: world.running.id,
      cameraId: camera,
      subject,
      capturedAt,
      adjudications: outcome ? [{ outcome, at: capturedAt }] : [],
    });
  world.oldAlert = await alert(never, ago(32 * DAY), 'false_alert');
  world.keptAlerts.push(await alert(tomorrow, ago(30 * DAY), 'confirmed'));
  // Exactly at the cutoff: kept (older than 31 days goes, 31 days old stays).
  world.keptAlerts.push(await alert(never, ago(31 * DAY)));
  return world;
}

describe(`retention with a controlled clock (${backendName})`, () => {
  let t: TestDatabase;
  let world: World;
  let before: Record<string, number>;

  beforeAll(async () => {
    t = await createTestDatabase();
    world = await seed(t.db);
    before = {
      subjectLog: await count(t.db, 'deployment_subject_log'),
      runningSnapshot: await count(t.db, 'snapshot_entries WHERE deployment_id = $1', [world.running.id]),
      notYetDueSnapshot: await count(t.db, 'snapshot_entries WHERE deployment_id = $1', [world.notYetDue.id]),
      subjects: await count(t.db, 'subjects'),
      images: await count(t.db, 'reference_images'),
      embeddings: await count(t.db, 'embeddings'),
    };
  }, 60_000);
  afterAll(async () => {
    await t?.drop();
  });

  it('deletes exactly what is due, nothing more, audits each deletion with counts, and keeps the statistics', async () => {
    const stats = new StatsService(createRepositories(t.db), () => NOW);
    const statsBefore = await stats.deployment(world.running.id);
    expect(statsBefore.alerts).toBe(3);

    const report = await new RetentionService(createRepositories(t.db), POLICY, () => NOW).run();
    expect(report.skipped).toBe(false);
    expect(report.alertCutoff).toBe(ago(31 * DAY).toISOString());

    // Snapshots: the two due deployments destroyed, the others untouched.
    expect(report.snapshots.map((s) => s.deploymentId).sort()).toEqual(
      [world.dueByDate.id, world.dueByStopTime.id].sort(),
    );
    expect(report.snapshots.every((s) => s.entries === 4)).toBe(true);
    for (const d of [world.dueByDate, world.dueByStopTime]) {
      expect(await count(t.db, 'snapshot_entries WHERE deployment_id = $1', [d.id])).toBe(0);
      const { rows } = await t.db.query<{ at: Date }>(
        'SELECT snapshot_destroyed_at AS at FROM deployments WHERE id = $1',
        [d.id],
      );
      expect(new Date(rows[0]!.at).toISOString()).toBe(NOW.toISOString());
    }
    expect(await count(t.db, 'snapshot_entries WHERE deployment_id = $1', [world.notYetDue.id])).toBe(
      before.notYetDueSnapshot! - 2,
    );
    expect(await count(t.db, 'deployments WHERE snapshot_destroyed_at IS NOT NULL')).toBe(2);

    // Alerts: only the one older than 31 days, with its crop and adjudication.
    expect(report.alerts).toEqual([
      { deploymentId: world.running.id, alerts: 1, crops: 1, adjudications: 1, dispatches: 0 },
    ]);
    expect(await count(t.db, 'alerts WHERE id = $1', [world.oldAlert.id])).toBe(0);
    expect(await count(t.db, 'adjudications WHERE alert_id = $1', [world.oldAlert.id])).toBe(0);
    expect(await count(t.db, 'alerts')).toBe(2);
    expect(await count(t.db, 'adjudications')).toBe(1);

    // Subjects: the expired one with both images, both embeddings and its snapshot copies.
    expect(report.subjects).toEqual([
      {
        subjectId: world.expired.id,
        watchlistId: expect.any(String),
        referenceImages: 2,
        embeddings: 2,
        snapshotEntries: 4,
      },
    ]);
    expect(await count(t.db, 'subjects')).toBe(before.subjects! - 1);
    expect(await count(t.db, 'reference_images')).toBe(before.images! - 2);
    expect(await count(t.db, 'embeddings')).toBe(before.embeddings! - 2);
    expect(await count(t.db, 'reference_images WHERE subject_id = $1', [world.expired.id])).toBe(0);
    expect(await count(t.db, 'snapshot_entries WHERE subject_id = $1', [world.expired.id])).toBe(0);
    expect(await count(t.db, 'snapshot_entries WHERE deployment_id = $1', [world.running.id])).toBe(
      before.runningSnapshot! - 2,
    );
    for (const kept of world.keptSubjects)
      expect(await count(t.db, 'subjects WHERE id = $1', [kept.id])).toBe(1);

    // The non-biometric record of who was on each list stays, the expired subject included.
    expect(await count(t.db, 'deployment_subject_log')).toBe(before.subjectLog);
    expect(await count(t.db, 'deployment_subject_log WHERE subject_id = $1', [world.expired.id])).toBe(4);

    expect(report.notCompacted).toEqual([]);
    expect([...report.compacted].sort()).toEqual(
      ['adjudications', 'alerts', 'embeddings', 'reference_images', 'snapshot_entries', 'subjects'].sort(),
    );

    const audit = new AuditRepository(t.db);
    const snapshotEntries = await audit.list({ action: 'retention.snapshot_destroyed' });
    expect(snapshotEntries.map((e) => e.targetId).sort()).toEqual(
      [world.dueByDate.id, world.dueByStopTime.id].sort(),
    );
    expect(snapshotEntries[0]).toMatchObject({
      actorName: 'system:retention',
      details: { snapshotEntries: 4, graceHours: 24 },
    });
    expect(await audit.list({ action: 'retention.alerts_deleted' })).toMatchObject([
      { targetId: world.running.id, details: { alerts: 1, crops: 1, adjudications: 1, retentionDays: 31 } },
    ]);
    expect(await audit.list({ action: 'retention.subject_expired' })).toMatchObject([
      { targetId: world.expired.id, details: { referenceImages: 2, embeddings: 2, snapshotEntries: 4 } },
    ]);
    expect((await audit.verify()).ok).toBe(true);

    // Published figures do not change when the alert itself is gone.
    const statsAfter = await stats.deployment(world.running.id);
    expect(statsAfter.alerts).toBe(3);
    expect(statsAfter.outcomes).toEqual(statsBefore.outcomes);
    expect(statsAfter.series).toEqual(statsBefore.series);
  });

  it('a second run, even two at once, finds nothing more to delete', async () => {
    const audit = new AuditRepository(t.db);
    const entries = (await audit.list({ limit: 1000 })).length;
    const service = new RetentionService(createRepositories(t.db), POLICY, () => NOW);
    const reports = await Promise.all([service.run(), service.run()]);
    for (const report of reports) {
      expect(report.snapshots).toEqual([]);
      expect(report.alerts).toEqual([]);
      expect(report.subjects).toEqual([]);
    }
    expect((await audit.list({ limit: 1000 })).length).toBe(entries);
  });

  it('a day later the next snapshot and alert are due', async () => {
    const later = new Date(NOW.getTime() + DAY + HOUR);
    const report = await new RetentionService(createRepositories(t.db), POLICY, () => later).run();
    expect(report.snapshots.map((s) => s.deploymentId)).toEqual([world.notYetDue.id]);
    expect(report.alerts.map((a) => a.alerts)).toEqual([2]);
    expect(report.subjects.map((s) => s.subjectId)).toEqual([world.keptSubjects[0]!.id]);
  });

  it('the schedule runs retention by itself', async () => {
    const last = world.keptSubjects[1]!;
    await t.db.query('UPDATE subjects SET expires_at = $2 WHERE id = $1', [
      last.id,
      new Date(NOW.getTime() + 2 * DAY).toISOString(),
    ]);
    const schedule = startRetentionSchedule({
      service: new RetentionService(
        createRepositories(t.db),
        POLICY,
        () => new Date(NOW.getTime() + 400 * DAY),
      ),
      intervalMs: 60_000,
      firstRunMs: 0,
      logger: createLogger({ level: 'silent' }),
    });
    try {
      await waitFor(async () => (await count(t.db, 'subjects WHERE id = $1', [last.id])) === 0, 20_000);
    } finally {
      await schedule.stop();
    }
    expect(await count(t.db, 'deployment_subject_log')).toBe(before.subjectLog);
    expect(
      await new AuditRepository(t.db).list({ action: 'retention.subject_expired', targetId: last.id }),
    ).toHaveLength(1);
  });
});

describe(`retention on demand (${backendName})`, () => {
  it('POST /oversight/retention/run is for admins and reports what it deleted', async () => {
    const t = await createTestApp();
    try {
      const post = (role: 'admin' | 'oversight' | 'operator') =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/oversight/retention/run',
          headers: bearer(t.tokens[role]),
        });
      expect((await post('oversight')).statusCode).toBe(403);
      expect((await post('operator')).statusCode).toBe(403);
      const response = await post('admin');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        skipped: false,
        snapshots: [],
        alerts: [],
        subjects: [],
        compacted: [],
        notCompacted: [],
      });
    } finally {
      await t.close();
    }
  }, 60_000);
});

/** Every file under `dir` (recursively) that contains `needle`. */
function filesContaining(dir: string, needle: Buffer, skip: (file: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if (skip(file)) continue;
    if (fs.readFileSync(file).includes(needle)) found.push(file);
  }
  return found;
}

describe('retention on the embedded database files (PGlite data dir)', () => {
  let dataDir: string;
  let db: PgliteDatabase;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-retention-files-'));
    db = await PgliteDatabase.open(path.join(dataDir, 'db'));
    await migrate(db);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('no deleted image or crop remains in the table files; kept ones are still there', async () => {
    const world = await seed(db);
    await db.query('CHECKPOINT');
    // The WAL keeps a copy of every write until its segment is recycled: only table files are judged.
    const skip = (file: string) => file.includes(`${path.sep}pg_wal${path.sep}`);
    const probe = (bytes: Buffer) => bytes.subarray(bytes.length - 64);
    const deleted = [probe(world.oldAlert.sealedProbe), ...world.expired.sealed.map(probe)];
    const kept = [
      probe(world.keptAlerts[0]!.sealedProbe),
      ...world.keptSubjects.flatMap((s) => s.sealed.map(probe)),
    ];
    for (const needle of [...deleted, ...kept])
      expect(filesContaining(dataDir, needle, skip)).not.toEqual([]);

    await new RetentionService(createRepositories(db), POLICY, () => NOW).run();
    await db.query('CHECKPOINT');
    for (const needle of deleted) expect(filesContaining(dataDir, needle, skip)).toEqual([]);
    for (const needle of kept) expect(filesContaining(dataDir, needle, skip)).not.toEqual([]);
    // Images live only inside the database: no image file anywhere in the data dir.
    const stray = fs
      .readdirSync(dataDir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && /\.(jpe?g|png|webp)$/i.test(e.name));
    expect(stray).toEqual([]);
  }, 120_000);
});

describe('retention as a role that does not own the tables (embedded PGlite)', () => {
  it('deletes what is due and names the tables it may not compact', async () => {
    const db = await PgliteDatabase.open();
    try {
      await migrate(db);
      await seed(db);
      // Like deploy/postgres/init.sql's vigil_app: reads and writes rows, owns nothing.
      await db.query('CREATE ROLE retention_app NOSUPERUSER');
      await db.query('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO retention_app');
      await db.query('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO retention_app');
      await db.query('SET ROLE retention_app');
      const report = await new RetentionService(createRepositories(db), POLICY, () => NOW).run();
      await db.query('RESET ROLE');
      expect(report.alerts.map((a) => a.alerts)).toEqual([1]);
      expect(report.subjects).toHaveLength(1);
      expect(report.compacted).toEqual([]);
      expect([...report.notCompacted].sort()).toEqual(
        ['adjudications', 'alerts', 'embeddings', 'reference_images', 'snapshot_entries', 'subjects'].sort(),
      );
      const owner = await new RetentionService(createRepositories(db), POLICY, () => NOW).run(undefined, {
        compactAll: true,
      });
      expect(owner.notCompacted).toEqual([]);
      expect(owner.compacted).toContain('alerts');
    } finally {
      await db.close();
    }
  }, 60_000);
});
