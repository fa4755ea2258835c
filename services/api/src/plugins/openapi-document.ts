/**
 * Shapes the OpenAPI document @fastify/swagger builds from the route schemas so that a generated
 * client gets named types and named calls: every operation an `operationId` from its method and path,
 * every JSON request body and response schema a component of its own (identical schemas share one:
 * the error envelope is one `Error`), and a server to call.
 */

import type { SwaggerTransformObject } from '@fastify/swagger';

type Json = Record<string, unknown>;
type SwaggerDocumentObject = Parameters<SwaggerTransformObject>[0];
type OpenApiDocument = ReturnType<SwaggerTransformObject>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** `/api/v1/deployments/{id}/alerts` with `get` -> `getDeploymentsByIdAlerts`. */
export function operationIdFor(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((segment) => segment && segment !== 'api' && !/^v\d+$/.test(segment))
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment) ?? /^:(.+)$/.exec(segment);
      return param ? `By ${param[1]}` : segment;
    })
    .flatMap((segment) => segment.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}

/** `getDeploymentsById` + `Response` -> `GetDeploymentsByIdResponse`. */
function componentName(operationId: string, suffix: string): string {
  return operationId[0]?.toUpperCase() + operationId.slice(1) + suffix;
}

/** Whether a schema is worth a name: an object or an array, not a bare string or number. */
function isStructured(schema: unknown): schema is Json {
  if (!schema || typeof schema !== 'object') return false;
  const type = (schema as Json).type;
  return type === 'object' || type === 'array' || Array.isArray((schema as Json).oneOf);
}

/**
 * Names `schema` as a component (or finds the component an identical schema already has) and
 * returns the `$ref` that replaces it.
 */
function named(schemas: Json, seen: Map<string, string>, schema: Json, name: string): Json {
  const key = JSON.stringify(schema);
  let ref = seen.get(key);
  if (!ref) {
    ref = name;
    // Another schema already holds the name (an error envelope that differs): number this one.
    for (let n = 2; ref in schemas; n++) ref = `${name}${n}`;
    schemas[ref] = schema;
    seen.set(key, ref);
  }
  return { $ref: `#/components/schemas/${ref}` };
}

/** The error envelope every route shares, named `Error` wherever it appears first. */
function isErrorEnvelope(schema: Json): boolean {
  const properties = schema.properties as Json | undefined;
  return Boolean(properties && Object.keys(properties).length === 1 && 'error' in properties);
}

/** @fastify/swagger's `transformObject`: operation ids, components and a server (OpenAPI 3 only). */
export function shapeOpenApiDocument(documentObject: SwaggerDocumentObject): OpenApiDocument {
  if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
  const document = structuredClone(documentObject.openapiObject) as Json & {
    paths?: Record<string, Record<string, Json>>;
    components?: Json;
  };
  document.components ??= {};
  const components = document.components;
  components.schemas ??= {};
  const schemas = components.schemas as Json;
  const seen = new Map<string, string>();
  // /health, /ready and /metrics are also served under /api/v1: those copies get `Api` in their id.
  const counts = new Map<string, number>();
  for (const [path, operations] of Object.entries(document.paths ?? {}))
    for (const method of METHODS)
      if (operations[method]) {
        const id = operationIdFor(method, path);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = operations[method];
      if (!operation) continue;
      let id = (operation.operationId as string | undefined) ?? operationIdFor(method, path);
      if ((counts.get(id) ?? 0) > 1 && path.startsWith('/api/')) id = id.replace(/^([a-z]+)/, '$1Api');
      operation.operationId = id;
      const body = (operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      const bodySchema = body?.['application/json']?.schema;
      if (body?.['application/json'] && isStructured(bodySchema)) {
        body['application/json'].schema = named(schemas, seen, bodySchema, componentName(id, 'Body'));
      }
      for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, Json>)) {
        const content = response.content as Record<string, Json> | undefined;
        const json = content?.['application/json'];
        if (!json || !isStructured(json.schema)) continue;
        let schema: Json = json.schema;
        // The response's description, copied into its schema, would make every error envelope differ.
        if (typeof schema.description === 'string' && schema.description === response.description) {
          const { description: _description, ...rest } = schema;
          schema = rest;
        }
        const name = isErrorEnvelope(schema)
          ? 'Error'
          : componentName(id, status.startsWith('2') ? 'Response' : `Response${status}`);
        json.schema = named(schemas, seen, schema, name);
      }
    }
  }
  document.servers ??= [{ url: '/', description: 'This Vigil, same origin as the console' }];
  return document as OpenApiDocument;
}
