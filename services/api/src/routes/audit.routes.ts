import { ValidationError } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import { type AuditTrailService, DEFAULT_AUDIT_PAGE } from '../oversight/audit-trail.service.js';
import { AUTH_ERRORS, errorResponses } from './schemas.js';

const auditRowSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    actorId: { type: ['string', 'null'] },
    actorName: { type: 'string' },
    action: {
      type: 'string',
      description: 'e.g. auth.login, subject.create, deployment.start, stats.export',
    },
    targetType: { type: 'string' },
    targetId: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
    prevHash: { type: 'string', description: 'hash of the row before (64 zeros for the first)' },
    hash: { type: 'string', description: 'SHA-256 of this row (canonical JSON) and prevHash' },
  },
  required: [
    'id',
    'at',
    'actorId',
    'actorName',
    'action',
    'targetType',
    'targetId',
    'details',
    'prevHash',
    'hash',
  ],
} as const;

const checkpointSchema = {
  type: 'object',
  description:
    "A chain head signed with the server's audit key (HMAC-SHA-256), which the database never holds. Keep a copy: a chain that no longer holds it was truncated or rewritten.",
  properties: {
    headId: { type: 'integer', description: 'newest row when it was signed' },
    headHash: { type: 'string', description: "that row's hash" },
    entries: { type: 'integer', description: 'rows up to and including it' },
    at: { type: 'string', format: 'date-time' },
    keyId: { type: 'string', description: 'names the audit key (first bytes of its SHA-256)' },
    signature: { type: 'string', description: 'hex HMAC-SHA-256 over version, head, entries and time' },
  },
  required: ['headId', 'headHash', 'entries', 'at', 'keyId', 'signature'],
} as const;

interface AuditQuerystring {
  action?: string;
  actor?: string;
  targetType?: string;
  target?: string;
  from?: string;
  to?: string;
  limit?: number;
  beforeId?: number;
}

function parseDate(value: string | undefined, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime()))
    throw new ValidationError(`\`${name}\` is not an ISO date`, 'invalid_time_window');
  return date;
}

export interface AuditRoutesOptions {
  auditTrail: AuditTrailService;
}

/** `GET /audit` (filters, paging) and `GET /audit/verify`: oversight and admin. */
export async function auditRoutes(app: FastifyInstance, options: AuditRoutesOptions): Promise<void> {
  const { auditTrail } = options;
  const oversight = app.requireRoles('oversight', 'admin');

  app.get<{ Querystring: AuditQuerystring }>(
    '/audit',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The audit trail, newest first',
        querystring: {
          type: 'object',
          properties: {
            action: { type: 'string', maxLength: 100 },
            actor: { type: 'string', maxLength: 100, description: 'user id or username' },
            targetType: { type: 'string', maxLength: 100 },
            target: { type: 'string', maxLength: 200, description: 'target id' },
            from: { type: 'string', maxLength: 40, description: 'ISO date or date-time (inclusive)' },
            to: { type: 'string', maxLength: 40, description: 'ISO date or date-time (exclusive)' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: DEFAULT_AUDIT_PAGE },
            beforeId: { type: 'integer', minimum: 1, description: 'entries older than this id (paging)' },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              entries: { type: 'array', items: auditRowSchema },
              nextBeforeId: {
                type: ['integer', 'null'],
                description: 'beforeId of the next page; null at the end',
              },
            },
            required: ['entries', 'nextBeforeId'],
          },
          ...errorResponses(400, ...AUTH_ERRORS),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return auditTrail.list({
        action: q.action,
        actor: q.actor,
        targetType: q.targetType,
        target: q.target,
        from: parseDate(q.from, 'from'),
        to: parseDate(q.to, 'to'),
        limit: q.limit,
        beforeId: q.beforeId,
      });
    },
  );

  app.get(
    '/audit/verify',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary:
          "Checks the audit trail's hash chain against its signed checkpoint and names the first altered row",
        response: {
          200: {
            type: 'object',
            properties: {
              ok: { type: 'boolean' },
              entries: {
                type: 'integer',
                description: 'rows checked before the first bad one (all when ok)',
              },
              firstBad: {
                type: 'object',
                description: 'absent when ok: the first altered row, or the row after a deleted or moved one',
                properties: {
                  id: { type: 'integer', description: 'the row; 0 with checkpoint_invalid' },
                  reason: {
                    type: 'string',
                    enum: [
                      'hash_mismatch',
                      'chain_broken',
                      'sequence_gap',
                      'checkpoint_mismatch',
                      'truncated',
                      'checkpoint_invalid',
                    ],
                    description:
                      'checkpoint_mismatch: the signed row is not what was signed (rows up to it rewritten, removed or inserted); truncated: the chain ends before the signed row (newest rows deleted); checkpoint_invalid: the stored checkpoint was not signed with this audit key',
                  },
                },
                required: ['id', 'reason'],
              },
              checkpoint: { ...checkpointSchema, description: 'the signed checkpoint the chain was held to' },
            },
            required: ['ok', 'entries'],
          },
          ...errorResponses(...AUTH_ERRORS),
        },
      },
    },
    async () => auditTrail.verify(),
  );

  app.get(
    '/audit/checkpoint',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: "The audit chain's head, signed now if it moved since the last checkpoint",
        description:
          'Oversight keeps these outside Vigil; null while the trail is empty or when the chain no longer extends the stored checkpoint (GET /audit/verify names the row).',
        response: {
          200: {
            type: 'object',
            properties: { checkpoint: { anyOf: [checkpointSchema, { type: 'null' }] } },
            required: ['checkpoint'],
          },
          ...errorResponses(...AUTH_ERRORS),
        },
      },
    },
    async () => ({ checkpoint: (await auditTrail.checkpoint()) ?? null }),
  );
}
