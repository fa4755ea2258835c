/**
 * Vigil's API contract: every route's and socket event's schema, defined once in TypeBox. The API
 * validates with these schemas and derives its request types from them, the OpenAPI document is
 * built from them, and the console imports the `Static<>` types (type-only) and the enumerations
 * (`@vigil/contract/values`, no TypeBox).
 */

export * from './alerts.js';
export * from './audit.js';
export * from './authorisations.js';
export * from './common.js';
export * from './deployments.js';
export * from './imports.js';
export * from './oversight.js';
export * from './published-records.js';
export * from './realtime.js';
export * from './schema.js';
export * from './stats.js';
export * from './system.js';
export * from './users.js';
export * from './values.js';
export * from './verification.js';
export * from './watchlists.js';
