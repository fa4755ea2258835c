/**
 * The path every test takes to start a deployment since issue 24: through the real routes, an
 * authoriser user approves the watchlist entries (recording a provenance where the test gave none),
 * the admin asks for authorisation with the terms filled in, and the authoriser grants it. Works with
 * any caller of the API: `app.inject` in the API's tests, `fetch` against a running system elsewhere.
 */

/** One API call as one user; `route` is under /api/v1. */
export type ApiCall = (
  method: string,
  route: string,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field.
) => Promise<{ status: number; json: any }>;

export const AUTHORISER_PASSWORD = 'an authorising officer 42';

/** Terms filled in where the deployment has none, so the request is complete. */
const FIXTURE_TERMS = {
  purpose: 'Test: locate people wanted on warrant',
  legalBasis: 'Test: common law policing powers; DPA 2018 s.35',
  location: 'Test location',
};

async function expectStatus(
  call: Promise<{ status: number; json: unknown }>,
  status: number,
  what: string,
): Promise<{ status: number; json: unknown }> {
  const response = await call;
  if (response.status !== status)
    throw new Error(`${what}: ${response.status} ${JSON.stringify(response.json).slice(0, 300)}`);
  return response;
}

/**
 * Creates an authoriser user as `admin` and logs in; `as(token)` makes the caller for that token.
 * Returns the authoriser's caller.
 */
export async function createAuthoriser(
  admin: ApiCall,
  as: (token: string) => ApiCall,
  username = 'authoriser-user',
): Promise<ApiCall> {
  await expectStatus(
    admin('POST', '/users', { username, password: AUTHORISER_PASSWORD, role: 'authoriser' }),
    201,
    'creating the authoriser',
  );
  const login = await expectStatus(
    admin('POST', '/auth/login', { username, password: AUTHORISER_PASSWORD }),
    200,
    'authoriser login',
  );
  return as((login.json as { token: string }).token);
}

/**
 * Approves every entry of the deployment's watchlists not yet approved, as `authoriser` (provenance
 * recorded by `admin` where missing), fills in the deployment's purpose, legal basis, location and
 * a window around now where unset, asks as `admin`, and grants as `authoriser`. Returns the request.
 */
export async function authoriseDeployment(
  admin: ApiCall,
  authoriser: ApiCall,
  deploymentId: string,
  options: { urgent?: boolean; grant?: boolean } = {},
  // biome-ignore lint/suspicious/noExplicitAny: the authorisation as the API returns it.
): Promise<any> {
  const deployment = (await expectStatus(admin('GET', `/deployments/${deploymentId}`), 200, 'deployment'))
    .json as Record<string, unknown> & { watchlistIds: string[] };
  for (const watchlistId of deployment.watchlistIds) await approveWatchlist(admin, authoriser, watchlistId);
  const now = Date.now();
  const terms: Record<string, string> = {};
  for (const [key, value] of Object.entries(FIXTURE_TERMS)) if (!deployment[key]) terms[key] = value;
  if (!deployment.startsAt) terms.startsAt = new Date(now - 60_000).toISOString();
  if (!deployment.endsAt) terms.endsAt = new Date(now + 3_600_000).toISOString();
  if (Object.keys(terms).length > 0)
    await expectStatus(admin('PATCH', `/deployments/${deploymentId}`, terms), 200, 'deployment terms');
  const request = await expectStatus(
    admin('POST', `/deployments/${deploymentId}/authorisation`, { urgent: options.urgent === true }),
    201,
    'authorisation request',
  );
  const id = (request.json as { id: string }).id;
  if (options.grant === false) return request.json;
  const decision = await expectStatus(
    authoriser('POST', `/authorisations/${id}/decision`, {
      decision: 'granted',
      rationale: 'Test: necessary and proportionate for this operation',
    }),
    200,
    'authorisation decision',
  );
  return decision.json;
}

/** Records provenance where missing and approves every unapproved entry of one watchlist. */
export async function approveWatchlist(
  admin: ApiCall,
  approver: ApiCall,
  watchlistId: string,
): Promise<void> {
  const subjects = (
    await expectStatus(admin('GET', `/watchlists/${watchlistId}/subjects?limit=1000`), 200, 'subjects')
  ).json as {
    id: string;
    reason: string;
    source: string;
    reviewBy: string | null;
    approvedBy: string | null;
  }[];
  const inAMonth = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  for (const subject of subjects) {
    if (subject.approvedBy) continue;
    const provenance: Record<string, string> = {};
    if (!subject.reason) provenance.reason = 'Test: wanted on warrant (category criteria)';
    if (!subject.source) provenance.source = 'Test: custody image';
    if (!subject.reviewBy || subject.reviewBy <= new Date().toISOString().slice(0, 10))
      provenance.reviewBy = inAMonth;
    if (Object.keys(provenance).length > 0)
      await expectStatus(admin('PATCH', `/subjects/${subject.id}`, provenance), 200, 'provenance');
    await expectStatus(approver('POST', `/subjects/${subject.id}/approval`), 200, 'approval');
  }
}
