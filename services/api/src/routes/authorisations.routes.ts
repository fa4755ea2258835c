import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  Authorisation,
  AuthorisationList,
  AuthorisationQuery,
  AuthorisationRequestBody,
  DecisionInput,
  errorResponses,
  UuidParams,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import type { AuthorisationService } from '../deployments/authorisation.service.js';

export interface AuthorisationRoutesOptions {
  authorisations: AuthorisationService;
}

/** Requests for authorisation (admins) and the authorising officer's decisions (authorisers). */
export async function authorisationRoutes(
  fastify: FastifyInstance,
  options: AuthorisationRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { authorisations } = options;
  const readers = app.requireRoles('authoriser', 'admin', 'oversight');

  app.post(
    '/deployments/:id/authorisation',
    {
      onRequest: app.requireRoles('admin'),
      schema: {
        tags: ['authorisation'],
        summary: 'Ask an authorising officer to authorise a planned deployment',
        description:
          'Purpose, legal basis, location, startsAt and endsAt must be set (400 authorisation_incomplete). The watchlist entries approved and not past review are recorded for approval with the request; composition counts them and those left out. urgent: the deployment may start at once; without a decision within VIGIL_URGENT_DECISION_HOURS it stops and its snapshot, alerts and crops are deleted.',
        params: UuidParams,
        body: AuthorisationRequestBody,
        response: { 201: Authorisation, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await authorisations.request(request.user!, request.params.id, request.body ?? {})),
  );

  app.get(
    '/deployments/:id/authorisations',
    {
      onRequest: readers,
      schema: {
        tags: ['authorisation'],
        summary: "A deployment's requests for authorisation and their decisions, newest first",
        params: UuidParams,
        response: {
          200: AuthorisationList,
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => authorisations.list({ deploymentId: request.params.id }),
  );

  app.get(
    '/authorisations',
    {
      onRequest: readers,
      schema: {
        tags: ['authorisation'],
        summary:
          'Requests for authorisation of every deployment, newest first (status=pending: awaiting decision)',
        querystring: AuthorisationQuery,
        response: {
          200: AuthorisationList,
          ...errorResponses(400, ...AUTH_ERRORS),
        },
      },
    },
    async (request) => authorisations.list({ status: request.query.status }),
  );

  app.post(
    '/authorisations/:id/decision',
    {
      onRequest: app.requireRoles('authoriser'),
      schema: {
        tags: ['authorisation'],
        summary: 'Grant or refuse a pending request, with the reasons',
        description:
          'Only an authoriser who did not ask (403 requester_cannot_authorise). Refusing a deployment that started urgently stops it and deletes its snapshot, alerts and crops at once. 409 authorisation_not_pending, authorisation_lapsed.',
        params: UuidParams,
        body: DecisionInput,
        response: { 200: Authorisation, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => authorisations.decide(request.user!, request.params.id, request.body),
  );
}
