import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../services/api/test/test-app.js';
import { FUZZ_SEED, FuzzRandom } from './fuzz-random.js';

const FAKE_ID = '00000000-0000-4000-8000-000000000000';
/** Cases per route; about 20 routes take a body, so a run is some thousands of requests. */
const CASES_PER_ROUTE = 120;

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
}

interface Operation {
  method: string;
  path: string;
  schema: JsonSchema | undefined;
}

const SQL = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '1; SELECT pg_sleep(10)',
  "admin'--",
  "\\'; DELETE FROM audit_log; --",
  '$1',
  "') UNION SELECT password_hash FROM users --",
];
const UNICODE = [
  '\u202etxt.exe',
  '𝕍𝕚𝕘𝕚𝕝',
  'Zoë Ødegård',
  '\ud800',
  '\uffff\ufffe',
  '\u0000',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal lookup string is the attack.
  '${jndi:ldap://x}',
  '{{7*7}}',
  '🙂'.repeat(300),
];
const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype'];

/** A value of any JSON type, hostile where it can be. */
function hostileValue(random: FuzzRandom, depth = 0): unknown {
  switch (random.int(0, 12)) {
    case 0:
      return null;
    case 1:
      return random.pick([true, false]);
    case 2:
      return random.pick([0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 31, 0.0000001]);
    case 3:
      return random.pick(SQL);
    case 4:
      return random.pick(UNICODE);
    case 5:
      return 'x'.repeat(random.pick([1, 65, 201, 257, 2049, 4001, 100_000]));
    case 6:
      return random.pick([FAKE_ID, 'not-a-uuid', '00000000-0000-0000-0000-000000000000', '']);
    case 7:
      return random.pick([
        '2026-13-45T99:99:99Z',
        '1970-01-01T00:00:00Z',
        'yesterday',
        '9999-12-31T23:59:59Z',
      ]);
    case 8:
      return depth > 3 ? [] : Array.from({ length: random.int(0, 4) }, () => hostileValue(random, depth + 1));
    case 9:
      return depth > 3 ? {} : hostileObject(random, undefined, depth + 1);
    case 10: {
      // Deep nesting: a parser or validator that recurses without a bound falls over here.
      let nested: unknown = 'bottom';
      for (let i = random.int(50, 2000); i > 0; i--) nested = random.next() < 0.5 ? [nested] : { a: nested };
      return nested;
    }
    case 11:
      return pollution();
    default:
      return random.pick([
        'admin',
        'operator',
        'wanted',
        'red',
        'confirmed',
        'rtsp://10.0.0.1/s',
        'a long enough password 42',
      ]);
  }
}

/** An own `__proto__` / `constructor.prototype` key, as JSON.parse makes it (an object literal would not). */
function pollution(): unknown {
  return JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
}

/** An object with the schema's property names (right or wrong types) and some strangers. */
function hostileObject(
  random: FuzzRandom,
  schema: JsonSchema | undefined,
  depth = 0,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    const roll = random.next();
    if (roll < 0.15) continue;
    if (roll < 0.35 && property.enum) out[name] = random.pick(property.enum);
    else if (roll < 0.45 && property.type === 'number') out[name] = random.next();
    else out[name] = hostileValue(random, depth);
  }
  if (random.next() < 0.3)
    out[random.pick(['extra', 'role', 'id', 'isAdmin', 'password_hash'])] = hostileValue(random, depth);
  return out;
}

/** The raw JSON text of one request body. */
function hostileBody(random: FuzzRandom, schema: JsonSchema | undefined): string {
  const roll = random.next();
  if (roll < 0.05)
    return random.pick(['', '{', '{"a":', 'nul', '[1,2', '{"a":1}{"b":2}', '\u0000', '{"a":"\\ud800"}']);
  if (roll < 0.12) return JSON.stringify(hostileValue(random));
  if (roll < 0.22) {
    // Pollution keys beside the schema's own fields.
    const body = JSON.stringify(hostileObject(random, schema)).slice(1, -1);
    const key = random.pick(POLLUTION_KEYS);
    const value = key === 'constructor' ? '{"prototype":{"polluted":"yes"}}' : '{"polluted":"yes"}';
    return `{"${key}":${value}${body ? `,${body}` : ''}}`;
  }
  return JSON.stringify(hostileObject(random, schema));
}

describe(`JSON body fuzz of every route in the OpenAPI document (${backendName}, seed ${FUZZ_SEED})`, () => {
  let t: TestApp;
  let operations: Operation[];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp();
    const admin = bearer(t.tokens.admin);
    const post = async (url: string, payload: object) => {
      const response = await t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: admin, payload });
      if (response.statusCode >= 300) throw new Error(`${url}: ${response.body}`);
      return response.json().id as string;
    };
    ids.watchlists = await post('/watchlists', { name: 'Fuzz list' });
    ids.deployments = await post('/deployments', {
      name: 'Fuzz',
      location: 'Lab',
      threshold: 0.6,
      watchlistIds: [],
    });
    ids.cameras = await post(`/deployments/${ids.deployments}/cameras`, {
      name: 'Cam',
      url: 'rtsp://10.0.0.1/s',
    });
    // A user of its own for PATCH /users/{id}: the fuzz may disable it or change its role, never the admin's.
    ids.users = await post('/users', {
      username: 'fuzz-target',
      password: 'a long enough password 42',
      role: 'operator',
    });
    const doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content?: Record<string, { schema?: JsonSchema & { $ref?: string } }> } }
        >
      >;
      components: { schemas: Record<string, JsonSchema> };
    };
    // Bodies are named components in the document: fuzz with the schema's own property names.
    const resolve = (schema?: JsonSchema & { $ref?: string }) =>
      schema?.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
    operations = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const upper = method.toUpperCase();
        if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(upper)) continue;
        // Logout would end the admin's own session half-way through.
        if (path.endsWith('/auth/logout')) continue;
        operations.push({
          method: upper,
          path,
          schema: resolve(operation.requestBody?.content?.['application/json']?.schema),
        });
      }
    }
  });
  afterAll(async () => t?.close());

  /** The path with its parameters filled: a real id of the resource, a missing one, or junk. */
  function url(random: FuzzRandom, path: string): string {
    return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const resource = /\/(\w+)\/\{/.exec(path.slice(0, path.indexOf(`{${name}}`) + name.length + 2))?.[1];
      const roll = random.next();
      if (roll < 0.6 && resource && ids[resource] && name === 'id') return ids[resource] as string;
      if (roll < 0.8) return FAKE_ID;
      return encodeURIComponent(
        random.pick(['not-a-uuid', "1' OR '1'='1", '..%2f..%2f', '__proto__', '-1', '9'.repeat(40)]),
      );
    });
  }

  it(`answers every hostile body with a 2xx or a 4xx carrying {"error":{"code","message"}}, never a 5xx (seed ${FUZZ_SEED})`, async () => {
    expect(operations.length).toBeGreaterThan(15);
    const random = new FuzzRandom(FUZZ_SEED + 20);
    const byStatus: Record<number, number> = {};
    for (const operation of operations) {
      for (let i = 0; i < CASES_PER_ROUTE; i++) {
        const payload = hostileBody(random, operation.schema);
        const target = url(random, operation.path);
        const response = await t.app.inject({
          method: operation.method as 'POST',
          url: target,
          headers: { ...bearer(t.tokens.admin), 'content-type': 'application/json' },
          payload,
        });
        const what = `${operation.method} ${target} ${payload.slice(0, 200)}`;
        byStatus[response.statusCode] = (byStatus[response.statusCode] ?? 0) + 1;
        expect(response.statusCode, `${what} -> ${response.body.slice(0, 300)}`).toBeLessThan(500);
        if (response.statusCode >= 400) {
          const body = response.json() as { error?: { code?: unknown; message?: unknown } };
          expect(body.error?.code, what).toMatch(/^[a-z][a-z0-9_]*$/);
          expect(typeof body.error?.message, what).toBe('string');
        }
        expect(({} as Record<string, unknown>).polluted, what).toBeUndefined();
        expect(Object.hasOwn(Object.prototype, 'polluted'), what).toBe(false);
      }
    }
    console.info(`${operations.length} routes x ${CASES_PER_ROUTE} bodies, by status:`, byStatus);
    // The admin still works afterwards: no case locked it out or took its role.
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(t.tokens.admin) });
    expect(me.statusCode).toBe(200);
  });
});
