import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from './test-app.js';

// Issue #23: a watchlist manager with hundreds of subjects needs to find one, a page at a time.
describe(`searching and paging a watchlist's subjects (${backendName})`, () => {
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
    for (const [label, notes] of [
      ['Jane Roe', 'tall, red coat'],
      ['John 100% Smith', 'beard'],
      ['Ann_Other', 'glasses'],
      ['Annabel Lee', 'Red scarf'],
    ])
      await t.deps.db.query(
        "INSERT INTO subjects (watchlist_id, label, category, priority, notes) VALUES ($1, $2, 'wanted', 'red', $3)",
        [watchlistId, label, notes],
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
});
