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
        summary: "Checks the audit trail's hash chain and names the first altered row",
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
                  id: { type: 'integer' },
                  reason: { type: 'string', enum: ['hash_mismatch', 'chain_broken', 'sequence_gap'] },
                },
                required: ['id', 'reason'],
              },
            },
            required: ['ok', 'entries'],
          },
          ...errorResponses(...AUTH_ERRORS),
        },
      },
    },
    async () => auditTrail.verify(),
  );
}
