import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AdjudicationInput,
  AdjudicationPayload,
  AlertIdParams,
  AlertListQuery,
  AlertPage,
  AUTH_ERRORS,
  ClaimPayload,
  DEFAULT_ALERT_PAGE,
  DispatchedAlertList,
  DispatchIdParams,
  DispatchInput,
  DispatchListQuery,
  DispatchPayload,
  errorResponses,
  ImageBytes,
  OfficerList,
  UuidParams,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';

/** Alert listings, outcomes (adjudication) and passing alerts to officers on the ground. */
export async function alertsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/deployments/:id/alerts',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: "A deployment's alerts, newest first",
        description:
          'Operators see only deployments they are assigned to. Page with `before` = the last id of the previous page (`nextBefore`). The probe crop is left out unless `includeProbe=true`.',
        params: UuidParams,
        querystring: AlertListQuery,
        response: {
          200: AlertPage,
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) =>
      app.alerts.list(request.user!, request.params.id, {
        limit: request.query.limit ?? DEFAULT_ALERT_PAGE,
        before: request.query.before,
        includeProbe: request.query.includeProbe ?? false,
      }),
  );

  app.get(
    '/alerts/:id/scene',
    {
      onRequest: app.requireRoles('operator', 'admin', 'officer'),
      schema: {
        tags: ['alerts'],
        summary: 'The scene kept with an alert (JPEG); every view is audited',
        description:
          'The frame the alert came from, at most 1280 px wide: the matched face boxed in red, every other face blurred before the frame left the detector. Operators of the deployment, admins, and the officer it was passed to. Audited (`alert_scene.view`). 404 when no scene was kept.',
        params: AlertIdParams,
        produces: ['image/jpeg'],
        response: {
          200: ImageBytes,
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      const jpeg = await app.alerts.scene(request.user!, request.params.id);
      return reply
        .header('content-type', 'image/jpeg')
        .header('cache-control', 'no-store')
        .header('content-disposition', 'inline')
        .send(jpeg);
    },
  );

  app.post(
    '/alerts/:id/adjudication',
    {
      onRequest: app.requireRoles('operator', 'admin', 'officer'),
      schema: {
        tags: ['alerts'],
        summary: 'Record what happened after an alert',
        description:
          'Stored, audited (`alert.adjudicate`) and sent live as `adjudication` to every client subscribed to the deployment.',
        params: AlertIdParams,
        body: AdjudicationInput,
        response: { 201: AdjudicationPayload, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request, reply) => {
      const adjudication = await app.alerts.adjudicate(request.user!, request.params.id, request.body);
      return reply.status(201).send(adjudication);
    },
  );

  app.get(
    '/deployments/:id/officers',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Operators and officers an alert of this deployment can be passed to',
        params: UuidParams,
        response: {
          200: OfficerList,
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => app.alerts.officers(request.user!, request.params.id),
  );

  app.post(
    '/alerts/:id/claim',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Take an alert: tell the other operators you are handling it',
        description:
          'Audited (`alert.claim`) and sent live as `claim`; 409 `alert_claimed` naming who holds it when someone else does. Claiming an alert you hold answers 200 again.',
        params: AlertIdParams,
        response: { 200: ClaimPayload, ...errorResponses(...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => app.alerts.claim(request.user!, request.params.id),
  );

  app.delete(
    '/alerts/:id/claim',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Give an alert back (its holder, or an admin for anyone)',
        description: 'Audited (`alert.release`) and sent live as `claim` with userId null.',
        params: AlertIdParams,
        response: { 200: ClaimPayload, ...errorResponses(...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => app.alerts.release(request.user!, request.params.id),
  );

  app.post(
    '/alerts/:id/dispatch',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['alerts'],
        summary: 'Pass an alert to an officer on the ground for engagement',
        description:
          'The officer is an operator-role user assigned to the same deployment; they see it in the Officer view (`GET /dispatches/mine`, live as `dispatch`). Audited (`alert.dispatch`).',
        params: AlertIdParams,
        body: DispatchInput,
        response: { 201: DispatchPayload, ...errorResponses(400, ...AUTH_ERRORS, 404, 422) },
      },
    },
    async (request, reply) => {
      const dispatch = await app.alerts.dispatch(request.user!, request.params.id, request.body);
      return reply.status(201).send(dispatch);
    },
  );

  // The officer's steps after an alert is passed to them: acknowledged, then en route.
  for (const { step, path, summary, description } of [
    {
      step: 'acknowledged',
      path: 'acknowledge',
      summary: 'Tell the operators you have seen an alert passed to you',
      description: 'Audited (`alert.dispatch_acknowledge`).',
    },
    {
      step: 'en_route',
      path: 'en-route',
      summary: 'Tell the operators you are on your way',
      description: '409 `not_acknowledged` before acknowledging. Audited (`alert.dispatch_en_route`).',
    },
  ] as const)
    app.post(
      `/dispatches/:id/${path}`,
      {
        onRequest: app.requireRoles('officer', 'operator'),
        schema: {
          tags: ['alerts'],
          summary,
          description: `Only the officer it was passed to (403 \`not_your_dispatch\`). ${description} Sent live as \`dispatch\`; a step already recorded keeps its time and answers the same.`,
          params: DispatchIdParams,
          response: { 200: DispatchPayload, ...errorResponses(...AUTH_ERRORS, 404, 409) },
        },
      },
      async (request) => app.alerts.recordDispatchStep(request.user!, request.params.id, step),
    );

  app.get(
    '/dispatches/mine',
    {
      onRequest: app.requireRoles('operator', 'admin', 'officer'),
      schema: {
        tags: ['alerts'],
        summary: 'Alerts passed to me for engagement, newest first (the Officer view)',
        querystring: DispatchListQuery,
        response: {
          200: DispatchedAlertList,
          ...errorResponses(400, ...AUTH_ERRORS),
        },
      },
    },
    async (request) => app.alerts.dispatchedTo(request.user!, request.query.limit ?? DEFAULT_ALERT_PAGE),
  );
}
