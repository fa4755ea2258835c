import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AUTH_ERRORS, errorResponses, Subject, SubjectChanges, UuidParams } from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import type { SubjectApprovalService } from '../subjects/subject-approval.service.js';

export interface ProvenanceRoutesOptions {
  approvals: SubjectApprovalService;
}

/** A watchlist entry's provenance (watchlist managers) and its approval by a second person. */
export async function provenanceRoutes(
  fastify: FastifyInstance,
  options: ProvenanceRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { approvals } = options;

  app.patch(
    '/subjects/:id',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin'),
      schema: {
        tags: ['subjects'],
        summary:
          "Record why an entry is on the list, its image's source and date, its review date; change its label, category, priority or notes",
        description:
          'Any change withdraws the entry’s approval: it is left out of snapshots until approved again.',
        params: UuidParams,
        body: SubjectChanges,
        response: { 200: Subject, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => approvals.recordProvenance(request.user!, request.params.id, request.body),
  );

  app.post(
    '/subjects/:id/approval',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin', 'authoriser'),
      schema: {
        tags: ['subjects'],
        summary: 'Approve an entry for use in snapshots',
        description:
          'Not by the one who added it (403 approver_is_adder); the reason and image source must be recorded (409 provenance_incomplete) and the review date in the future (409 review_overdue).',
        params: UuidParams,
        response: { 200: Subject, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => approvals.approve(request.user!, request.params.id),
  );
}
