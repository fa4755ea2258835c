import { OUTCOMES, type Outcome } from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

const alertIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]{1,19}$', description: 'alerts.id' } },
  required: ['id'],
} as const;

const adjudicationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    alertId: { type: 'string' },
    deploymentId: { type: 'string', format: 'uuid' },
    outcome: { type: 'string', enum: [...OUTCOMES] },
    note: { type: 'string' },
    userId: { type: ['string', 'null'] },
    username: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'alertId', 'deploymentId', 'outcome', 'note', 'userId', 'username', 'createdAt'],
} as const;

const claimSchema = {
  type: 'object',
  description: 'Who is handling the alert; userId null when nobody is',
  properties: {
    alertId: { type: 'string' },
    deploymentId: { type: 'string', format: 'uuid' },
    userId: { type: ['string', 'null'] },
    username: { type: ['string', 'null'] },
    claimedAt: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['alertId', 'deploymentId', 'userId', 'username', 'claimedAt'],
} as const;

const alertProperties = {
  id: { type: 'string', description: 'alerts.id (bigint) as decimal text' },
  deploymentId: { type: 'string', format: 'uuid' },
  cameraId: { type: 'string', format: 'uuid' },
  cameraName: { type: ['string', 'null'] },
  subjectId: { type: 'string', format: 'uuid' },
  label: { type: 'string' },
  category: { type: 'string' },
  priority: { type: 'string', enum: ['red', 'amber', 'green'] },
  score: { type: 'number' },
  threshold: { type: 'number' },
  capturedAt: { type: 'string', format: 'date-time' },
  createdAt: { type: 'string', format: 'date-time' },
  probeImage: {
    type: 'string',
    description: 'data:image/jpeg;base64 probe crop; only with includeProbe=true',
  },
  referenceImageUrl: { type: ['string', 'null'], description: 'GET it with the bearer token' },
  adjudications: { type: 'array', items: adjudicationSchema },
  claim: { anyOf: [claimSchema, { type: 'null' }] },
} as const;

const alertSchema = {
  type: 'object',
  properties: alertProperties,
  required: [
    'id',
    'deploymentId',
    'cameraId',
    'subjectId',
    'label',
    'category',
    'priority',
    'score',
    'threshold',
    'capturedAt',
    'createdAt',
    'referenceImageUrl',
    'adjudications',
  ],
} as const;

const dispatchProperties = {
  id: { type: 'string' },
  alertId: { type: 'string' },
  deploymentId: { type: 'string', format: 'uuid' },
  officerId: { type: 'string', format: 'uuid' },
  officerName: { type: 'string' },
  dispatchedBy: { type: ['string', 'null'] },
  dispatchedByName: { type: 'string' },
  note: { type: 'string' },
  createdAt: { type: 'string', format: 'date-time' },
} as const;

const dispatchSchema = {
  type: 'object',
  properties: dispatchProperties,
  required: Object.keys(dispatchProperties),
} as const;

/** Page size of alert listings: one screen of a busy deployment; at most 200 a request. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

/** Alert listings, outcomes (adjudication) and passing alerts to officers on the ground. */
export async function alertsRoutes(app: FastifyInstance): Promise<void> {
  app.get<{
    Params: { id: string };
    Querystring: { limit?: number; before?: string; includeProbe?: boolean };
  }>(
    '/deployments/:id/alerts',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: "A deployment's alerts, newest first",
        description:
          'Operators see only deployments they are assigned to. Page with `before` = the last id of the previous page (`nextBefore`). The probe crop is left out unless `includeProbe=true`.',
        params: uuidParams,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
            before: { type: 'string', pattern: '^[0-9]{1,19}$' },
            includeProbe: { type: 'boolean', default: false },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              alerts: { type: 'array', items: alertSchema },
              total: { type: 'integer' },
              nextBefore: { type: ['string', 'null'] },
            },
            required: ['alerts', 'total', 'nextBefore'],
          },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) =>
      app.alerts.list(request.user!, request.params.id, {
        limit: request.query.limit ?? DEFAULT_PAGE,
        before: request.query.before,
        includeProbe: request.query.includeProbe ?? false,
      }),
  );

  app.post<{ Params: { id: string }; Body: { outcome: Outcome; note?: string } }>(
    '/alerts/:id/adjudication',
    {
      onRequest: app.requireRoles('operator', 'admin', 'officer'),
      schema: {
        tags: ['alerts'],
        summary: 'Record what happened after an alert',
        description:
          'Stored, audited (`alert.adjudicate`) and sent live as `adjudication` to every client subscribed to the deployment.',
        params: alertIdParams,
        body: {
          type: 'object',
          properties: {
            outcome: { type: 'string', enum: [...OUTCOMES] },
            note: { type: 'string', maxLength: 2000 },
          },
          required: ['outcome'],
          additionalProperties: false,
        },
        response: { 201: adjudicationSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request, reply) => {
      const adjudication = await app.alerts.adjudicate(request.user!, request.params.id, request.body);
      return reply.status(201).send(adjudication);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/officers',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Operators and officers an alert of this deployment can be passed to',
        params: uuidParams,
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: { id: { type: 'string', format: 'uuid' }, username: { type: 'string' } },
              required: ['id', 'username'],
            },
          },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => app.alerts.officers(request.user!, request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/alerts/:id/claim',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Take an alert: tell the other operators you are handling it',
        description:
          'Audited (`alert.claim`) and sent live as `claim`; 409 `alert_claimed` naming who holds it when someone else does. Claiming an alert you hold answers 200 again.',
        params: alertIdParams,
        response: { 200: claimSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => app.alerts.claim(request.user!, request.params.id),
  );

  app.delete<{ Params: { id: string } }>(
    '/alerts/:id/claim',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Give an alert back (its holder, or an admin for anyone)',
        description: 'Audited (`alert.release`) and sent live as `claim` with userId null.',
        params: alertIdParams,
        response: { 200: claimSchema, ...errorResponses(...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => app.alerts.release(request.user!, request.params.id),
  );

  app.post<{ Params: { id: string }; Body: { officerId: string; note?: string } }>(
    '/alerts/:id/dispatch',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Pass an alert to an officer on the ground for engagement',
        description:
          'The officer is an operator-role user assigned to the same deployment; they see it in the Officer view (`GET /dispatches/mine`, live as `dispatch`). Audited (`alert.dispatch`).',
        params: alertIdParams,
        body: {
          type: 'object',
          properties: {
            officerId: { type: 'string', format: 'uuid' },
            note: { type: 'string', maxLength: 2000 },
          },
          required: ['officerId'],
          additionalProperties: false,
        },
        response: { 201: dispatchSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 422) },
      },
    },
    async (request, reply) => {
      const dispatch = await app.alerts.dispatch(request.user!, request.params.id, request.body);
      return reply.status(201).send(dispatch);
    },
  );

  app.get<{ Querystring: { limit?: number } }>(
    '/dispatches/mine',
    {
      onRequest: app.requireRoles('operator', 'admin', 'officer'),
      schema: {
        tags: ['alerts'],
        summary: 'Alerts passed to me for engagement, newest first (the Officer view)',
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE } },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                ...dispatchProperties,
                alert: alertSchema,
                description: { type: 'string', description: "The subject's notes" },
                deploymentName: { type: 'string' },
                location: { type: 'string', description: "The deployment's location" },
                outcome: { anyOf: [adjudicationSchema, { type: 'null' }] },
              },
              required: [
                ...Object.keys(dispatchProperties),
                'alert',
                'description',
                'deploymentName',
                'location',
                'outcome',
              ],
            },
          },
          ...errorResponses(400, ...AUTH_ERRORS),
        },
      },
    },
    async (request) => app.alerts.dispatchedTo(request.user!, request.query.limit ?? DEFAULT_PAGE),
  );
}
