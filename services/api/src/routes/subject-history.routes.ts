import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  errorResponses,
  SubjectHistory,
  SubjectHistoryQuery,
  UuidParams,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_HISTORY_PAGE, type SubjectHistoryService } from '../subjects/subject-history.service.js';

export interface SubjectHistoryRoutesOptions {
  history: SubjectHistoryService;
}

/** A subject's history in words: watchlist managers, admins and oversight. */
export async function subjectHistoryRoutes(
  fastify: FastifyInstance,
  options: SubjectHistoryRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/subjects/:id/history',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin', 'oversight'),
      schema: {
        tags: ['subjects'],
        summary: 'What happened to a subject, in words, newest first',
        description:
          'Enrolment, edits with their from and to, photos added and removed, approvals, the deployments whose lists held the subject, the alerts it raised with their outcomes, deletion or expiry. From the audit trail and the alerts still kept; a deleted subject keeps its history.',
        params: UuidParams,
        querystring: SubjectHistoryQuery,
        response: { 200: SubjectHistory, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) =>
      options.history.history(request.params.id, {
        limit: request.query.limit ?? DEFAULT_HISTORY_PAGE,
        offset: request.query.offset ?? 0,
      }),
  );
}
