import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_ROLES, type UserRole } from '../src/auth/roles.js';
import { bearer, createTestApp, login, ROLE_PASSWORD, type TestApp } from './test-app.js';

/** Routes anyone may call. Everything else in the OpenAPI document needs a token. */
const PUBLIC = new Set([
  'GET /health',
  'GET /api/v1/health',
  'POST /api/v1/auth/login',
  // Readiness probes (load balancers, Kubernetes) carry no token; they reveal check names only.
  'GET /ready',
  'GET /api/v1/ready',
]);

const ALL: UserRole[] = [...USER_ROLES];
/** Who may call each route, as CONTRACT.md's table says (and the routes the table implies). */
const EXPECTED: Record<string, UserRole[]> = {
  'GET /api/v1/auth/me': ALL,
  'POST /api/v1/users': ['admin'],
  'GET /api/v1/users': ['admin'],
  'PATCH /api/v1/users/{id}': ['admin'],
  'POST /api/v1/watchlists': ['watchlist_manager', 'admin'],
  'GET /api/v1/watchlists': ['watchlist_manager', 'admin'],
  'GET /api/v1/watchlists/{id}': ['watchlist_manager', 'admin'],
  'PATCH /api/v1/watchlists/{id}': ['watchlist_manager', 'admin'],
  'DELETE /api/v1/watchlists/{id}': ['watchlist_manager', 'admin'],
  'POST /api/v1/watchlists/{id}/subjects': ['watchlist_manager', 'admin'],
  'GET /api/v1/watchlists/{id}/subjects': ['watchlist_manager', 'admin'],
  'GET /api/v1/subjects/{id}': ['watchlist_manager', 'admin'],
  'DELETE /api/v1/subjects/{id}': ['watchlist_manager', 'admin'],
  'GET /api/v1/reference-images/{id}': ['watchlist_manager', 'admin', 'operator', 'officer'],
  'POST /api/v1/deployments': ['admin'],
  'GET /api/v1/deployments': ['admin', 'operator', 'oversight', 'authoriser'],
  'GET /api/v1/deployments/{id}': ['admin', 'operator', 'oversight', 'authoriser'],
  'PATCH /api/v1/deployments/{id}': ['admin'],
  'PUT /api/v1/deployments/{id}/watchlists': ['admin'],
  'POST /api/v1/deployments/{id}/operators': ['admin'],
  'DELETE /api/v1/deployments/{id}/operators/{userId}': ['admin'],
  'POST /api/v1/deployments/{id}/cameras': ['admin'],
  'GET /api/v1/deployments/{id}/cameras': ['admin', 'operator'],
  'DELETE /api/v1/cameras/{id}': ['admin'],
  'POST /api/v1/deployments/{id}/start': ['admin'],
  'POST /api/v1/deployments/{id}/stop': ['admin'],
  'GET /api/v1/deployments/{id}/status': ['admin', 'operator'],
  'GET /api/v1/deployments/{id}/alerts': ['operator', 'admin'],
  'GET /api/v1/deployments/{id}/stats': ['oversight', 'admin'],
  'GET /api/v1/oversight/stats': ['oversight', 'admin'],
  'GET /api/v1/audit': ['oversight', 'admin'],
  'GET /api/v1/audit/verify': ['oversight', 'admin'],
  'GET /api/v1/audit/checkpoint': ['oversight', 'admin'],
  // Routes added after the contract's table, pinned as their handlers' role checks stand, so that a
  // new route cannot slip past this matrix (see 'gives every non-public route a row' below).
  'POST /api/v1/auth/logout': ALL,
  // Issue 23: everyone changes their own password.
  'POST /api/v1/auth/password': ALL,
  'POST /api/v1/alerts/{id}/claim': ['operator', 'admin'],
  // Issue 23: what enrolment would decide, before enrolling; a subject's history; photos added and removed.
  'POST /api/v1/watchlists/{id}/subjects/preview': ['watchlist_manager', 'admin'],
  'GET /api/v1/subjects/{id}/history': ['watchlist_manager', 'admin', 'oversight'],
  'POST /api/v1/subjects/{id}/images': ['watchlist_manager', 'admin'],
  'DELETE /api/v1/reference-images/{id}': ['watchlist_manager', 'admin'],
  'DELETE /api/v1/alerts/{id}/claim': ['operator', 'admin'],
  'GET /metrics': ['admin'],
  'GET /api/v1/metrics': ['admin'],
  'POST /api/v1/watchlists/{id}/imports': ['watchlist_manager', 'admin'],
  'GET /api/v1/watchlists/{id}/imports': ['watchlist_manager', 'admin'],
  'GET /api/v1/imports/{id}': ['watchlist_manager', 'admin'],
  'GET /api/v1/deployments/{id}/stats.csv': ['oversight', 'admin'],
  'GET /api/v1/oversight/stats.csv': ['oversight', 'admin'],
  'POST /api/v1/oversight/retention/run': ['admin'],
  'PATCH /api/v1/deployments/{id}/threshold': ['admin'],
  // Issue 24, items 3-5: two-person verification (the rule is set by an admin, confirmed by operators),
  // the log of each use, the published record, the evidence pack and the calibrations behind it.
  'GET /api/v1/deployments/{id}/verification': ['admin', 'operator', 'oversight'],
  'PUT /api/v1/deployments/{id}/verification': ['admin'],
  'GET /api/v1/deployments/{id}/verifications': ['operator', 'admin'],
  'POST /api/v1/alerts/{id}/verifications': ['operator', 'admin'],
  'GET /api/v1/deployments/{id}/use-log': ['oversight', 'admin'],
  'GET /api/v1/deployments/{id}/use-log.csv': ['oversight', 'admin'],
  'GET /api/v1/deployments/{id}/published-record': ['oversight', 'admin'],
  'GET /api/v1/deployments/{id}/published-record.csv': ['oversight', 'admin'],
  'GET /api/v1/oversight/published-record': ['oversight', 'admin'],
  'GET /api/v1/oversight/published-record.csv': ['oversight', 'admin'],
  'GET /api/v1/deployments/{id}/evidence-pack': ['oversight', 'admin'],
  'GET /api/v1/oversight/calibrations': ['oversight', 'admin'],
  'POST /api/v1/oversight/calibrations': ['admin'],
  // The contract names operators; admins may record an outcome too.
  'POST /api/v1/alerts/{id}/adjudication': ['operator', 'admin', 'officer'],
  'GET /api/v1/alerts/{id}/scene': ['operator', 'admin', 'officer'],
  'GET /api/v1/deployments/{id}/officers': ['operator', 'admin'],
  'POST /api/v1/alerts/{id}/dispatch': ['operator', 'admin'],
  'GET /api/v1/dispatches/mine': ['operator', 'admin', 'officer'],
  // Issue 23: only whoever an alert was passed to records their progress (the service checks it is them).
  'POST /api/v1/dispatches/{id}/acknowledge': ['officer', 'operator'],
  'POST /api/v1/dispatches/{id}/en-route': ['officer', 'operator'],
  // The console's New deployment form takes its default threshold and floor from here.
  'GET /api/v1/model': ALL,
  // Issue 24: an admin asks, an authorising officer (a role apart from admin) decides; watchlist
  // managers record an entry's provenance and a second person approves it.
  'POST /api/v1/deployments/{id}/authorisation': ['admin'],
  'GET /api/v1/deployments/{id}/authorisations': ['authoriser', 'admin', 'oversight'],
  'GET /api/v1/authorisations': ['authoriser', 'admin', 'oversight'],
  'POST /api/v1/authorisations/{id}/decision': ['authoriser'],
  'PATCH /api/v1/subjects/{id}': ['watchlist_manager', 'admin'],
  'POST /api/v1/subjects/{id}/approval': ['watchlist_manager', 'admin', 'authoriser'],
};

const FAKE_ID = '00000000-0000-4000-8000-000000000000';

interface Route {
  method: string;
  path: string;
  key: string;
  url: string;
  public: boolean;
}

describe(`authorisation matrix from the OpenAPI document (${backendName})`, () => {
  let t: TestApp;
  let routes: Route[];
  let expiredToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    routes = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const upper = method.toUpperCase();
        if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(upper)) continue;
        const key = `${upper} ${path}`;
        routes.push({
          method: upper,
          path,
          key,
          url: path.replace(/\{[^}]+\}/g, FAKE_ID),
          public: Array.isArray(operation.security) && operation.security.length === 0,
        });
      }
    }
    expiredToken = await login(t.app, 'operator-user', ROLE_PASSWORD);
    await t.deps.db.query(
      "UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE created_at = (SELECT max(created_at) FROM sessions)",
    );
  });
  afterAll(async () => t?.close());

  it('documents every route of the contract', () => {
    const keys = new Set(routes.map((r) => r.key));
    for (const key of [...Object.keys(EXPECTED), 'POST /api/v1/auth/login'].filter(
      (k) => !/alerts|stats|audit/.test(k),
    ))
      expect(keys, key).toContain(key);
  });

  it('marks no route public but health, readiness and login', () => {
    const publicRoutes = routes.filter((r) => r.public).map((r) => r.key);
    for (const key of publicRoutes) expect(PUBLIC, key).toContain(key);
  });

  it('gives every non-public route a row in the expected-roles table', () => {
    const missing = routes
      .filter((r) => !r.public && !PUBLIC.has(r.key) && !EXPECTED[r.key])
      .map((r) => r.key);
    expect(missing).toEqual([]);
  });

  it('answers 401 to every non-public route without a token, with an expired one, and with a tampered one', async () => {
    const tampered = `${t.tokens.admin.slice(0, -2)}${t.tokens.admin.endsWith('xx') ? 'yy' : 'xx'}`;
    for (const route of routes.filter((r) => !r.public && !PUBLIC.has(r.key))) {
      if (route.key === 'GET /metrics' || route.key === 'GET /api/v1/metrics') continue; // scrape token, own test
      for (const headers of [
        {},
        bearer(expiredToken),
        bearer(tampered),
        { authorization: `Basic ${t.tokens.admin}` },
      ]) {
        const response = await t.app.inject({
          method: route.method as 'GET',
          url: route.url,
          headers,
          payload: {},
        });
        expect(response.statusCode, `${route.key} ${JSON.stringify(headers).slice(0, 30)}`).toBe(401);
        expect(response.json().error.code).toMatch(/unauthorized|invalid_token|token_expired/);
      }
    }
  });

  it('gives each role exactly the access the contract table says', async () => {
    // Logout revokes the caller's token, so it goes last.
    const ordered = [...routes].sort(
      (a, b) => Number(a.key.endsWith('/logout')) - Number(b.key.endsWith('/logout')),
    );
    for (const route of ordered) {
      const allowed = EXPECTED[route.key];
      if (!allowed) continue;
      for (const role of USER_ROLES) {
        const response = await t.app.inject({
          method: route.method as 'GET',
          url: route.url,
          headers: bearer(t.tokens[role]),
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        });
        if (allowed.includes(role))
          expect([401, 403], `${route.key} as ${role}: ${response.body.slice(0, 120)}`).not.toContain(
            response.statusCode,
          );
        else expect(response.statusCode, `${route.key} as ${role}`).toBe(403);
      }
    }
  });

  it('keeps public routes answering without a token', async () => {
    for (const key of ['GET /health', 'GET /api/v1/health']) {
      const [method, url] = key.split(' ') as [string, string];
      expect((await t.app.inject({ method: method as 'GET', url })).statusCode).toBe(200);
    }
    expect((await t.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });
});
