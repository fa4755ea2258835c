import { AuditRepository } from '@vigil/core';
import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from './test-app.js';

// Issue #23: a watchlist manager with hundreds of subjects needs to find one, a page at a time.
describe(`searching, paging and editing a watchlist's subjects (${backendName})`, () => {
  let t: TestApp;
  let watchlistId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/watchlists',
      headers: bearer(t.tokens.watchlist_manager),
      payload: { name: 'Search list' },
    });
    watchlistId = created.json().id;
    // A second apart: the list is in the order subjects were added, and inserts within one clock
    // tick would tie.
    for (const [i, [label, notes]] of [
      ['Jane Roe', 'tall, red coat'],
      ['John 100% Smith', 'beard'],
      ['Ann_Other', 'glasses'],
      ['Annabel Lee', 'Red scarf'],
    ].entries())
      await t.deps.db.query(
        `INSERT INTO subjects (watchlist_id, label, category, priority, notes, created_at)
         VALUES ($1, $2, 'wanted', 'red', $3, now() + make_interval(secs => $4))`,
        [watchlistId, label, notes, i],
      );
  });
  afterAll(async () => t?.close());

  async function labels(query: string): Promise<string[]> {
    const response = await t.app.inject({
      method: 'GET',
      url: `/api/v1/watchlists/${watchlistId}/subjects?${query}`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(response.statusCode).toBe(200);
    return response.json().map((subject: { label: string }) => subject.label);
  }

  it('finds subjects whose label or notes contain the text, whatever its case', async () => {
    expect(await labels('q=roe')).toEqual(['Jane Roe']);
    expect(await labels('q=RED')).toEqual(['Jane Roe', 'Annabel Lee']);
  });

  it('takes % and _ literally, not as wildcards', async () => {
    expect(await labels(`q=${encodeURIComponent('100%')}`)).toEqual(['John 100% Smith']);
    expect(await labels('q=_')).toEqual(['Ann_Other']);
  });

  it('pages with limit and offset, and counts the subjects of each watchlist', async () => {
    expect(await labels('limit=2')).toEqual(['Jane Roe', 'John 100% Smith']);
    expect(await labels('limit=2&offset=2')).toEqual(['Ann_Other', 'Annabel Lee']);
    expect(await labels('q=ann&limit=1&offset=1')).toEqual(['Annabel Lee']);
    const lists = await t.app.inject({
      method: 'GET',
      url: '/api/v1/watchlists',
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(lists.json().find((w: { id: string }) => w.id === watchlistId).subjectCount).toBe(4);
  });

  it('refuses an empty or overlong search with 400', async () => {
    for (const query of ['q=', `q=${'x'.repeat(201)}`]) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/watchlists/${watchlistId}/subjects?${query}`,
        headers: bearer(t.tokens.watchlist_manager),
      });
      expect(response.statusCode).toBe(400);
    }
  });

  it("changes a subject's label, category, priority and notes, audits from and to, and withdraws its approval", async () => {
    const { rows } = await t.deps.db.query<{ id: string }>(
      "SELECT id FROM subjects WHERE label = 'Jane Roe' AND watchlist_id = $1",
      [watchlistId],
    );
    const id = rows[0]?.id;
    const approver = (await t.deps.db.query<{ id: string }>("SELECT id FROM users WHERE username = 'admin'"))
      .rows[0]?.id;
    await t.deps.db.query('UPDATE subjects SET approved_by = $2, approved_at = now() WHERE id = $1', [
      id,
      approver,
    ]);
    const changed = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/subjects/${id}`,
      headers: bearer(t.tokens.watchlist_manager),
      payload: { label: 'Jane R. Roe', priority: 'amber', notes: 'tall, red coat, limps' },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({
      label: 'Jane R. Roe',
      category: 'wanted',
      priority: 'amber',
      notes: 'tall, red coat, limps',
      approvedBy: null,
    });
    const [entry] = await new AuditRepository(t.deps.db).list({ targetType: 'subject', targetId: id });
    expect(entry?.details).toMatchObject({
      from: { label: 'Jane Roe', priority: 'red' },
      to: { label: 'Jane R. Roe', priority: 'amber' },
      approvalWithdrawn: true,
    });
    for (const payload of [{ label: '   ' }, { priority: 'purple' }, { label: '' }]) {
      const refused = await t.app.inject({
        method: 'PATCH',
        url: `/api/v1/subjects/${id}`,
        headers: bearer(t.tokens.watchlist_manager),
        payload,
      });
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});
