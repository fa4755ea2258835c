import type { FastifyInstance } from 'fastify';
import { AUTHORISATION_STATUSES, type AuthorisationStatus } from '../deployments/authorisation.repository.js';
import type { AuthorisationService, DecisionInput } from '../deployments/authorisation.service.js';
import { SUBJECT_CATEGORIES, SUBJECT_PRIORITIES } from '../subjects/subject.repository.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

export interface AuthorisationRoutesOptions {
  authorisations: AuthorisationService;
}

const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;
const counts = (keys: readonly string[]) =>
  ({
    type: 'object',
    properties: Object.fromEntries(keys.map((key) => [key, { type: 'integer' }])),
  }) as const;

/** A watchlist's make-up without names; `excluded` counts entries left out, by reason. */
export const compositionSchema = {
  type: ['object', 'null'],
  description:
    'Numbers per category and priority, no names. excluded: notApproved (no approval recorded), reviewOverdue (past its review date), notAuthorised (added after the authorisation)',
  properties: {
    subjects: { type: 'integer' },
    byCategory: counts(SUBJECT_CATEGORIES),
    byPriority: counts(SUBJECT_PRIORITIES),
    excluded: counts(['notApproved', 'reviewOverdue', 'notAuthorised']),
  },
} as const;

export const authorisationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    deploymentId: { type: 'string', format: 'uuid' },
    deploymentName: { type: 'string' },
    status: { type: 'string', enum: [...AUTHORISATION_STATUSES] },
    urgent: { type: 'boolean' },
    requestedBy: { type: ['string', 'null'] },
    requestedByName: { type: ['string', 'null'] },
    requestedAt: { type: 'string', format: 'date-time' },
    decisionDueAt: {
      ...nullableDate,
      description: 'Urgent requests: the deployment stops and its data is deleted if undecided by then',
    },
    purpose: { type: 'string' },
    legalBasis: { type: 'string' },
    location: { type: 'string' },
    startsAt: nullableDate,
    endsAt: nullableDate,
    threshold: { type: 'number' },
    watchlistIds: { type: 'array', items: { type: 'string', format: 'uuid' } },
    composition: compositionSchema,
    decidedBy: { type: ['string', 'null'] },
    decidedByName: { type: ['string', 'null'] },
    decidedAt: nullableDate,
    rationale: { type: 'string' },
  },
  required: ['id', 'deploymentId', 'status', 'urgent', 'requestedAt', 'composition', 'rationale'],
} as const;

/** Requests for authorisation (admins) and the authorising officer's decisions (authorisers). */
export async function authorisationRoutes(
  app: FastifyInstance,
  options: AuthorisationRoutesOptions,
): Promise<void> {
  const { authorisations } = options;
  const readers = app.requireRoles('authoriser', 'admin', 'oversight');

  app.post<{ Params: { id: string }; Body: { urgent?: boolean } }>(
    '/deployments/:id/authorisation',
    {
      onRequest: app.requireRoles('admin'),
      schema: {
        tags: ['authorisation'],
        summary: 'Ask an authorising officer to authorise a planned deployment',
        description:
          'Purpose, legal basis, location, startsAt and endsAt must be set (400 authorisation_incomplete). The watchlist entries approved and not past review are recorded for approval with the request; composition counts them and those left out. urgent: the deployment may start at once; without a decision within VIGIL_URGENT_DECISION_HOURS it stops and its snapshot, alerts and crops are deleted.',
        params: uuidParams,
        body: {
          type: 'object',
          properties: { urgent: { type: 'boolean' } },
          additionalProperties: false,
        },
        response: { 201: authorisationSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await authorisations.request(request.user!, request.params.id, request.body ?? {})),
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/authorisations',
    {
      onRequest: readers,
      schema: {
        tags: ['authorisation'],
        summary: "A deployment's requests for authorisation and their decisions, newest first",
        params: uuidParams,
        response: {
          200: { type: 'array', items: authorisationSchema },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => authorisations.list({ deploymentId: request.params.id }),
  );

  app.get<{ Querystring: { status?: AuthorisationStatus } }>(
    '/authorisations',
    {
      onRequest: readers,
      schema: {
        tags: ['authorisation'],
        summary:
          'Requests for authorisation of every deployment, newest first (status=pending: awaiting decision)',
        querystring: {
          type: 'object',
          properties: { status: { type: 'string', enum: [...AUTHORISATION_STATUSES] } },
          additionalProperties: false,
        },
        response: {
          200: { type: 'array', items: authorisationSchema },
          ...errorResponses(400, ...AUTH_ERRORS),
        },
      },
    },
    async (request) => authorisations.list({ status: request.query.status }),
  );

  app.post<{ Params: { id: string }; Body: DecisionInput }>(
    '/authorisations/:id/decision',
    {
      onRequest: app.requireRoles('authoriser'),
      schema: {
        tags: ['authorisation'],
        summary: 'Grant or refuse a pending request, with the reasons',
        description:
          'Only an authoriser who did not ask (403 requester_cannot_authorise). Refusing a deployment that started urgently stops it and deletes its snapshot, alerts and crops at once. 409 authorisation_not_pending, authorisation_lapsed.',
        params: uuidParams,
        body: {
          type: 'object',
          properties: {
            decision: { type: 'string', enum: ['granted', 'refused'] },
            rationale: { type: 'string', minLength: 1, maxLength: 4000, pattern: '\\S' },
          },
          required: ['decision', 'rationale'],
          additionalProperties: false,
        },
        response: { 200: authorisationSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => authorisations.decide(request.user!, request.params.id, request.body),
  );
}
