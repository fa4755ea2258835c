import type { FastifyInstance } from 'fastify';
import { SUBJECT_CATEGORIES, SUBJECT_PRIORITIES } from '../subjects/subject.repository.js';
import type { ProvenanceChanges, SubjectApprovalService } from '../subjects/subject-approval.service.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';
import { subjectSchema } from './watchlists.routes.js';

export interface ProvenanceRoutesOptions {
  approvals: SubjectApprovalService;
}

const day = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' } as const;

/** A watchlist entry's provenance (watchlist managers) and its approval by a second person. */
export async function provenanceRoutes(
  app: FastifyInstance,
  options: ProvenanceRoutesOptions,
): Promise<void> {
  const { approvals } = options;

  app.patch<{ Params: { id: string }; Body: ProvenanceChanges }>(
    '/subjects/:id',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin'),
      schema: {
        tags: ['subjects'],
        summary:
          "Record why an entry is on the list, its image's source and date, its review date; change its label, category, priority or notes",
        description:
          'Any change withdraws the entry’s approval: it is left out of snapshots until approved again.',
        params: uuidParams,
        body: {
          type: 'object',
          properties: {
            reason: { type: 'string', maxLength: 500 },
            source: { type: 'string', maxLength: 500 },
            imageTakenOn: { ...day, type: ['string', 'null'] },
            reviewBy: day,
            label: { type: 'string', minLength: 1, maxLength: 200 },
            category: { type: 'string', enum: [...SUBJECT_CATEGORIES] },
            priority: { type: 'string', enum: [...SUBJECT_PRIORITIES] },
            notes: { type: 'string', maxLength: 2000 },
          },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: subjectSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => approvals.recordProvenance(request.user!, request.params.id, request.body),
  );

  app.post<{ Params: { id: string } }>(
    '/subjects/:id/approval',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin', 'authoriser'),
      schema: {
        tags: ['subjects'],
        summary: 'Approve an entry for use in snapshots',
        description:
          'Not by the one who added it (403 approver_is_adder); the reason and image source must be recorded (409 provenance_incomplete) and the review date in the future (409 review_overdue).',
        params: uuidParams,
        response: { 200: subjectSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => approvals.approve(request.user!, request.params.id),
  );
}
