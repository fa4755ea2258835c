import { AuditRepository, listMigrations, migrate } from '@vigil/core';
import { backendName, createTestDatabase, type TestDatabase } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiCall, approveWatchlist, authoriseDeployment } from './authorisation.fixture.js';
import { enrolThroughApi, faceCrop, loadEngine } from './face-fixtures.js';
import { createWatchlist, testCipher } from './oversight/fixtures.js';
import { bearer, createTestApp, injectCaller, type TestApp } from './test-app.js';

const MODEL = 'test-model';
const DAY = 86_400_000;
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);

describe(`watchlist provenance and approval (${backendName})`, () => {
  let t: TestApp;
  let admin: ApiCall;
  let manager: ApiCall;
  let authoriser: ApiCall;

  beforeAll(async () => {
    t = await createTestApp({ faceEngine: await loadEngine(), cipher: testCipher() });
    admin = injectCaller(t.app, t.tokens.admin);
    manager = injectCaller(t.app, t.tokens.watchlist_manager);
    authoriser = injectCaller(t.app, t.tokens.authoriser);
  });
  afterAll(async () => t?.close());

  it("records why a subject is listed, the image's source and date, who added them and a review date", async () => {
    const watchlistId = (await manager('POST', '/watchlists', { name: 'Op Granite' })).json.id;
    const face = await faceCrop(1, 0);
    const id = await enrolThroughApi(
      t.app,
      t.tokens.watchlist_manager,
      watchlistId,
      {
        label: 'Provenance Person',
        category: 'wanted',
        priority: 'red',
        reason: 'Wanted on warrant for robbery (category: wanted, criterion 1)',
        source: 'Custody image, ref CUST/123',
        image_taken_on: day(-30),
        review_by: day(14),
      },
      [face],
    );
    const me = (await manager('GET', '/auth/me')).json;
    const subject = (await manager('GET', `/subjects/${id}`)).json;
    expect(subject).toMatchObject({
      reason: 'Wanted on warrant for robbery (category: wanted, criterion 1)',
      source: 'Custody image, ref CUST/123',
      imageTakenOn: day(-30),
      reviewBy: day(14),
      addedBy: me.user?.id ?? me.id,
      approvedBy: null,
      approvedAt: null,
    });
    // No review date given: a quarter from today.
    const plain = await enrolThroughApi(
      t.app,
      t.tokens.watchlist_manager,
      watchlistId,
      { label: 'Default Review', category: 'other', priority: 'green' },
      [await faceCrop(3, 1)],
    );
    expect((await manager('GET', `/subjects/${plain}`)).json.reviewBy).toBe(day(90));
    const patchPast = await manager('PATCH', `/subjects/${plain}`, { reviewBy: day(-1) });
    expect(patchPast.status).toBe(400);
    expect(patchPast.json.error.code).toBe('invalid_reviewBy');
  });

  it('is approved by someone other than who added it, once the reason and source are recorded; a change withdraws the approval', async () => {
    const list = await createWatchlist(t.deps.db, t.deps.cipher!, [
      { label: 'To approve', category: 'suspect' },
    ]);
    const id = list.subjects[0]!.id;
    const managerMe = (await manager('GET', '/auth/me')).json;
    const managerId = managerMe.user?.id ?? managerMe.id;
    await t.deps.db.query('UPDATE subjects SET added_by = $1 WHERE id = $2', [managerId, id]);

    const incomplete = await authoriser('POST', `/subjects/${id}/approval`);
    expect(incomplete.status).toBe(409);
    expect(incomplete.json.error.code).toBe('provenance_incomplete');
    const recorded = await manager('PATCH', `/subjects/${id}`, {
      reason: 'Suspected of a series of burglaries',
      source: 'CCTV still, crime ref 42',
      imageTakenOn: day(-3),
      reviewBy: day(30),
    });
    expect(recorded.status, JSON.stringify(recorded.json)).toBe(200);
    const own = await manager('POST', `/subjects/${id}/approval`);
    expect(own.status).toBe(403);
    expect(own.json.error.code).toBe('approver_is_adder');
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/subjects/${id}/approval`,
          headers: bearer(t.tokens.operator),
        })
      ).statusCode,
    ).toBe(403);

    const approved = await authoriser('POST', `/subjects/${id}/approval`);
    expect(approved.status, JSON.stringify(approved.json)).toBe(200);
    const authoriserMe = (await authoriser('GET', '/auth/me')).json;
    const authoriserId = authoriserMe.user?.id ?? authoriserMe.id;
    expect(approved.json).toMatchObject({ approvedBy: authoriserId, reviewBy: day(30) });
    expect(approved.json.approvedAt).toBeTruthy();
    const [audit] = await new AuditRepository(t.deps.db).list({ action: 'subject.approve', targetId: id });
    expect(audit?.actorName).toBe('authoriser-user');

    const changed = await manager('PATCH', `/subjects/${id}`, {
      reason: 'Suspected of burglary and handling',
    });
    expect(changed.json).toMatchObject({ approvedBy: null, approvedAt: null });
  });

  it('leaves unapproved and overdue entries out of the snapshot, shows the authoriser how many and why, and records the make-up without names', async () => {
    const cipher = t.deps.cipher!;
    const modelId = t.deps.faceEngine!.profile.modelId;
    const list = await createWatchlist(
      t.deps.db,
      cipher,
      [
        { label: 'In Red Wanted', category: 'wanted' },
        { label: 'In Vulnerable', category: 'vulnerable' },
        { label: 'Not Approved', category: 'wanted' },
        { label: 'Past Review Person', category: 'suspect' },
      ],
      modelId,
    );
    const [inA, inB, unapproved, overdue] = list.subjects;
    await t.deps.db.query("UPDATE subjects SET priority = 'amber' WHERE id = $1", [inB!.id]);
    // Approve all but one through the routes, then let one pass its review date.
    await approveWatchlist(admin, authoriser, list.id);
    await t.deps.db.query('UPDATE subjects SET approved_by = NULL, approved_at = NULL WHERE id = $1', [
      unapproved!.id,
    ]);
    await t.deps.db.query('UPDATE subjects SET review_by = current_date - 1 WHERE id = $1', [overdue!.id]);

    const created = await admin('POST', '/deployments', {
      name: 'Composition',
      location: 'Station',
      purpose: 'Find the people on Op Granite',
      legalBasis: 'Common law',
      threshold: 0.6,
      watchlistIds: [list.id],
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + DAY).toISOString(),
    });
    const request = (await admin('POST', `/deployments/${created.json.id}/authorisation`, {})).json;
    expect(request.composition).toEqual({
      subjects: 2,
      byCategory: { wanted: 1, suspect: 0, missing: 0, vulnerable: 1, other: 0 },
      byPriority: { red: 1, amber: 1, green: 0 },
      excluded: { notApproved: 1, reviewOverdue: 1, notAuthorised: 0 },
    });
    // Approved after the request: not in what the authoriser saw, so not in the snapshot.
    const late = await createWatchlist(
      t.deps.db,
      cipher,
      [{ label: 'Added Later Person', category: 'wanted' }],
      modelId,
    );
    await t.deps.db.query('UPDATE subjects SET watchlist_id = $1 WHERE id = $2', [
      list.id,
      late.subjects[0]!.id,
    ]);
    await t.deps.db.query('UPDATE reference_images SET watchlist_id = $1 WHERE subject_id = $2', [
      list.id,
      late.subjects[0]!.id,
    ]);
    await approveWatchlist(admin, authoriser, list.id);
    await t.deps.db.query('UPDATE subjects SET approved_by = NULL, approved_at = NULL WHERE id = $1', [
      unapproved!.id,
    ]);
    await authoriser('POST', `/authorisations/${request.id}/decision`, {
      decision: 'granted',
      rationale: 'ok',
    });

    const started = await admin('POST', `/deployments/${created.json.id}/start`);
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    expect(started.json.watchlistComposition).toMatchObject({
      subjects: 2,
      excluded: { notApproved: 1, reviewOverdue: 1, notAuthorised: 1 },
    });
    for (const label of [
      'In Red Wanted',
      'In Vulnerable',
      'Not Approved',
      'Past Review Person',
      'Added Later Person',
    ])
      expect(JSON.stringify(started.json)).not.toContain(label);
    const { rows } = await t.deps.db.query<{ subject_id: string }>(
      'SELECT DISTINCT subject_id FROM snapshot_entries WHERE deployment_id = $1',
      [created.json.id],
    );
    expect(rows.map((r) => r.subject_id).sort()).toEqual([inA!.id, inB!.id].sort());
  });
});

describe(`migration 060 keeps existing deployments and subjects usable (${backendName})`, () => {
  let testDb: TestDatabase;
  let t: TestApp;
  const ids = {} as Record<'creator' | 'watchlist' | 'subject' | 'planned' | 'running', string>;

  beforeAll(async () => {
    testDb = await createTestDatabase({ migrate: false });
    const { db } = testDb;
    await migrate(
      db,
      listMigrations().filter((m) => m.version < 60),
    );
    const insert = async (sql: string, params: unknown[] = []) =>
      (await db.query<{ id: string }>(sql, params)).rows[0]!.id;
    ids.creator = await insert(
      "INSERT INTO users (username, password_hash, role) VALUES ('old-admin', 'x', 'admin') RETURNING id",
    );
    const list = await createWatchlist(db, testCipher(), [{ label: 'Old Entry', category: 'wanted' }], MODEL);
    ids.watchlist = list.id;
    ids.subject = list.subjects[0]!.id;
    for (const status of ['planned', 'running'] as const) {
      ids[status] = await insert(
        `INSERT INTO deployments (name, location, threshold, model, status, started_at, created_by)
         VALUES ($1, 'Old place', 0.6, $2, $3, CASE WHEN $3 = 'running' THEN now() END, $4) RETURNING id`,
        [`old ${status}`, MODEL, status, ids.creator],
      );
      await db.query('INSERT INTO deployment_watchlists (deployment_id, watchlist_id) VALUES ($1, $2)', [
        ids[status],
        list.id,
      ]);
    }
    await migrate(db);
    t = await createTestApp({ db, modelId: MODEL, cipher: testCipher() });
  });
  afterAll(async () => {
    await t?.close();
    await testDb?.drop();
  });

  it('lets a running deployment carry on under a migrated record; a planned one needs authorisation; old entries need approval', async () => {
    const admin = injectCaller(t.app, t.tokens.admin);
    const authoriser = injectCaller(t.app, t.tokens.authoriser);
    const running = (await admin('GET', `/deployments/${ids.running}`)).json;
    expect(running).toMatchObject({ status: 'running', authorisation: { status: 'migrated' } });
    expect((await admin('POST', `/deployments/${ids.running}/stop`)).json).toMatchObject({
      status: 'stopped',
      stopReason: 'manual',
    });

    const start = await admin('POST', `/deployments/${ids.planned}/start`);
    expect(start.json.error.code).toBe('authorisation_required');
    const [subject] = (await admin('GET', `/watchlists/${ids.watchlist}/subjects`)).json;
    expect(subject).toMatchObject({ id: ids.subject, label: 'Old Entry', approvedBy: null, reason: '' });

    await authoriseDeployment(admin, authoriser, ids.planned);
    const started = await admin('POST', `/deployments/${ids.planned}/start`);
    expect(started.status, JSON.stringify(started.json)).toBe(200);
    expect(started.json.watchlistComposition.subjects).toBe(1);
  });
});
