import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  AuditCheckpointResponse,
  AuditPage,
  AuditQuery,
  AuditVerification,
  errorResponses,
} from '@vigil/contract';
import { ValidationError } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import type { AuditTrailService } from '../oversight/audit-trail.service.js';

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
export async function auditRoutes(fastify: FastifyInstance, options: AuditRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auditTrail } = options;
  const oversight = app.requireRoles('oversight', 'admin');

  app.get(
    '/audit',
    {
      onRequest: oversight,
      schema: {
        tags: ['oversight'],
        summary: 'The audit trail, newest first',
        querystring: AuditQuery,
        response: {
          200: AuditPage,
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
          200: AuditVerification,
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
          200: AuditCheckpointResponse,
          ...errorResponses(...AUTH_ERRORS),
        },
      },
    },
    async () => ({ checkpoint: (await auditTrail.checkpoint()) ?? null }),
  );
}
