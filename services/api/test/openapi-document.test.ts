import { backendName } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationIdFor } from '../src/plugins/openapi-document.js';
import { createTestApp, type TestApp } from './test-app.js';

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read field by field.
type Json = any;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** Every `$ref` in `node`, wherever it sits. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsIn(item, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push(value);
      else refsIn(value, out);
    }
  }
  return out;
}

describe(`the OpenAPI document a client is generated from (${backendName})`, () => {
  let t: TestApp;
  let doc: Json;

  beforeAll(async () => {
    t = await createTestApp();
    doc = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json();
  });
  afterAll(async () => t?.close());

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((method) => ({ path, method, operation: item[method] })),
    );

  it('names every operation once, from its method and path', () => {
    const ids = operations().map((o) => o.operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/api/v1/deployments/{id}/alerts'].get.operationId).toBe('getDeploymentsByIdAlerts');
    expect(operationIdFor('post', '/api/v1/deployments/:id/start')).toBe('postDeploymentsByIdStart');
  });

  it('names every JSON body and response schema as a component, the error envelope once', () => {
    const inline: string[] = [];
    for (const { path, method, operation } of operations()) {
      const schemas = [
        operation.requestBody?.content?.['application/json']?.schema,
        ...Object.values(operation.responses ?? {}).map((r: Json) => r.content?.['application/json']?.schema),
      ].filter(Boolean);
      for (const schema of schemas)
        if (!schema.$ref && (schema.type === 'object' || schema.type === 'array'))
          inline.push(`${method} ${path}`);
    }
    expect(inline).toEqual([]);
    const names = Object.keys(doc.components.schemas);
    expect(names).toContain('Error');
    expect(names).toContain('GetModelResponse');
    expect(names.filter((n) => /^Error\d/.test(n))).toEqual([]);
    expect(doc.paths['/api/v1/model'].get.responses['401'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/Error',
    );
  });

  it('resolves every reference, and lists a server to call', () => {
    const missing = refsIn(doc.paths)
      .filter((ref) => ref.startsWith('#/components/schemas/'))
      .filter((ref) => !(ref.slice('#/components/schemas/'.length) in doc.components.schemas));
    expect(missing).toEqual([]);
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    // The security scheme the document had before it was shaped is still there.
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
