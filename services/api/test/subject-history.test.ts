import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolThroughApi, faceCrop, loadEngine } from './face-fixtures.js';
import { bearer, createTestApp, type TestApp } from './test-app.js';

interface Entry {
  at: string;
  kind: string;
  actor: string | null;
  text: string;
  changes?: { field: string; from: string; to: string }[];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

function day(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

// Issue #23: a subject's page says what happened to them, in words, newest first.
describe(`a subject's history (${backendName})`, () => {
  let t: TestApp;
  let subjectId: string;

  beforeAll(async () => {
    t = await createTestApp({ faceEngine: await loadEngine() });
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/watchlists',
      headers: bearer(t.tokens.watchlist_manager),
      payload: { name: 'Burglaries' },
    });
    subjectId = await enrolThroughApi(
      t.app,
      t.tokens.watchlist_manager,
      created.json().id,
      { label: 'Jane Roe', category: 'suspect', priority: 'red' },
      [await faceCrop(1, 0)],
    );
  });
  afterAll(async () => t?.close());

  const call = (token: string, method: 'GET' | 'PATCH' | 'POST' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  const history = async (query = '', token = t.tokens.watchlist_manager) => {
    const response = await call(token, 'GET', `/subjects/${subjectId}/history${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as {
      entries: Entry[];
      nextOffset: number | null;
      alerts: { total: number; outcomes: Record<string, number>; text: string };
    };
  };

  it('tells enrolment, edits with from and to, approval, the deployments that searched for them and their alerts, newest first', async () => {
    const manager = t.tokens.watchlist_manager;
    expect(
      (
        await call(manager, 'PATCH', `/subjects/${subjectId}`, {
          label: 'Jane R. Roe',
          priority: 'amber',
          notes: 'limps',
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await call(manager, 'PATCH', `/subjects/${subjectId}`, {
          reason: 'Suspected of a series of burglaries',
          source: 'Custody photo',
          reviewBy: day(30),
        })
      ).statusCode,
    ).toBe(200);
    expect((await call(t.tokens.authoriser, 'POST', `/subjects/${subjectId}/approval`)).statusCode).toBe(200);
    // A deployment's list held the subject and it raised two alerts, one adjudicated (as the
    // deployment start and the matcher write them).
    const db = t.deps.db;
    const deployment = (
      await db.query<{ id: string }>(
        `INSERT INTO deployments (name, location, threshold, model, status) VALUES ('High Street', 'High Street', 0.5, 'test-model', 'running') RETURNING id`,
      )
    ).rows[0]!.id;
    const camera = (
      await db.query<{ id: string }>(
        `INSERT INTO cameras (deployment_id, name, url) VALUES ($1, 'North entrance', '/tmp/none.mp4') RETURNING id`,
        [deployment],
      )
    ).rows[0]!.id;
    await db.query(
      `INSERT INTO deployment_subject_log (deployment_id, subject_id, watchlist_id, label, category, priority, recorded_at)
       SELECT $1, id, watchlist_id, label, category, priority, now() + interval '10 milliseconds' FROM subjects WHERE id = $2`,
      [deployment, subjectId],
    );
    const alertIds: string[] = [];
    for (const [i, key] of ['a', 'b'].entries())
      alertIds.push(
        (
          await db.query<{ id: string }>(
            `INSERT INTO alerts (deployment_id, camera_id, subject_id, track_id, label, category, priority, score, threshold, captured_at, dedupe_key)
             VALUES ($1, $2, $3, $4, 'Jane R. Roe', 'suspect', 'amber', 0.61, 0.5, now() + make_interval(secs => $5::float8 / 100), $4) RETURNING id::text AS id`,
            [deployment, camera, subjectId, `history-${key}`, 2 + i],
          )
        ).rows[0]!.id,
      );
    await db.query(
      `INSERT INTO adjudications (alert_id, user_id, outcome) SELECT $1::bigint, id, 'false_alert' FROM users WHERE username = 'operator-user'`,
      [alertIds[0]],
    );

    const { entries, alerts, nextOffset } = await history();
    expect(nextOffset).toBeNull();
    expect(entries.map((e) => e.kind)).toEqual([
      'alert',
      'alert',
      'listed',
      'approved',
      'edited',
      'edited',
      'created',
    ]);
    const times = entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(entries[0]?.text).toBe(
      'Raised an alert at camera “North entrance” of the deployment “High Street”: no outcome recorded yet',
    );
    expect(entries[1]?.text).toBe(
      'Raised an alert at camera “North entrance” of the deployment “High Street”: false alert by operator-user',
    );
    expect(entries[2]?.text).toBe('On the list searched by the deployment “High Street”');
    expect(entries[3]).toMatchObject({
      actor: 'authoriser-user',
      text: `Approved by authoriser-user, to be reviewed by ${day(30)}`,
    });
    expect(entries[4]?.text).toMatch(
      /^Changed by watchlist_manager-user: review date from “\d{4}-\d{2}-\d{2}” to “/,
    );
    expect(entries[4]?.text).toContain('recorded the reason for listing and image source');
    expect(entries[5]).toMatchObject({
      actor: 'watchlist_manager-user',
      text: 'Changed by watchlist_manager-user: label from “Jane Roe” to “Jane R. Roe”, priority from “red” to “amber” and notes from “(none)” to “limps”',
      changes: [
        { field: 'label', from: 'Jane Roe', to: 'Jane R. Roe' },
        { field: 'priority', from: 'red', to: 'amber' },
        { field: 'notes', from: '(none)', to: 'limps' },
      ],
    });
    expect(entries[6]?.text).toBe(
      'Enrolled by watchlist_manager-user on the watchlist “Burglaries” with 1 photo as “Jane Roe”, suspect, red priority',
    );
    expect(alerts).toEqual({
      total: 2,
      outcomes: { false_alert: 1, unresolved: 1 },
      text: expect.stringMatching(
        /^2 alerts: 1 (false alert|without an outcome) and 1 (false alert|without an outcome)\.$/,
      ),
    });
    for (const entry of entries) expect(entry.text).not.toMatch(UUID);

    // Oversight reads it too, a page at a time.
    const first = await history('?limit=3', t.tokens.oversight);
    expect(first.entries.map((e) => e.kind)).toEqual(['alert', 'alert', 'listed']);
    expect(first.nextOffset).toBe(3);
    const rest = await history('?limit=10&offset=3', t.tokens.oversight);
    expect(rest.entries.map((e) => e.kind)).toEqual(['approved', 'edited', 'edited', 'created']);
    expect(rest.nextOffset).toBeNull();
  });

  it('keeps the history of a deleted subject, and answers 404 for one never known', async () => {
    // The alerts above were captured up to 30 ms ahead of the clock; on a fast PostgreSQL the
    // deletion would otherwise come earlier than them and not be the newest entry.
    const newest = Date.parse((await history()).entries[0]?.at ?? '');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, newest - Date.now() + 20)));
    expect((await call(t.tokens.watchlist_manager, 'DELETE', `/subjects/${subjectId}`)).statusCode).toBe(204);
    const { entries } = await history();
    expect(entries[0]).toMatchObject({
      kind: 'deleted',
      text: 'Deleted by watchlist_manager-user on the watchlist “Burglaries”, with 1 photo',
    });
    const unknown = await call(
      t.tokens.oversight,
      'GET',
      '/subjects/00000000-0000-4000-8000-000000000000/history',
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    expect((await call(t.tokens.operator, 'GET', `/subjects/${subjectId}/history`)).statusCode).toBe(403);
  });
});
