import type { FastifyInstance } from 'fastify';
import type { VerificationService } from '../verification/verification.service.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

const alertIdParams = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[0-9]{1,19}$', description: 'alerts.id' } },
  required: ['id'],
} as const;

const policySchema = {
  type: 'object',
  properties: {
    deploymentId: { type: 'string', format: 'uuid' },
    required: {
      type: 'boolean',
      description: 'two different operators must confirm an alert before it is acted on',
    },
  },
  required: ['deploymentId', 'required'],
} as const;

const confirmationSchema = {
  type: 'object',
  properties: {
    userId: { type: ['string', 'null'] },
    username: { type: 'string' },
    note: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['userId', 'username', 'note', 'createdAt'],
} as const;

const stateSchema = {
  type: 'object',
  properties: {
    alertId: { type: 'string' },
    required: { type: 'boolean' },
    confirmations: { type: 'array', items: confirmationSchema },
    actionable: {
      type: 'boolean',
      description: 'may be passed to an officer and counted as confirmed',
    },
    waitingFor: { type: 'integer', minimum: 0, description: 'confirmations still needed' },
  },
  required: ['alertId', 'required', 'confirmations', 'actionable', 'waitingFor'],
} as const;

/** Two-person verification: the deployment's rule, each operator's confirmation, and who is waiting. */
export async function verificationRoutes(
  app: FastifyInstance,
  options: { verification: VerificationService },
): Promise<void> {
  const { verification } = options;

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/verification',
    {
      onRequest: app.requireRoles('admin', 'operator', 'oversight'),
      schema: {
        tags: ['verification'],
        summary: 'Whether the deployment requires two-person verification of alerts',
        params: uuidParams,
        response: { 200: policySchema, ...errorResponses(...AUTH_ERRORS, 404) },
      },
    },
    async (request) => verification.policy(request.user!, request.params.id),
  );

  app.put<{ Params: { id: string }; Body: { required: boolean } }>(
    '/deployments/:id/verification',
    {
      onRequest: app.requireRoles('admin'),
      schema: {
        tags: ['verification'],
        summary: 'Require (or stop requiring) two different operators to confirm each alert',
        description:
          'Can be turned on until the deployment stops, and off only before it starts (409 `invalid_deployment_state`). Audited (`deployment.verification_policy`) and on the use log.',
        params: uuidParams,
        body: {
          type: 'object',
          properties: { required: { type: 'boolean' } },
          required: ['required'],
          additionalProperties: false,
        },
        response: { 200: policySchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => verification.setRequired(request.user!, request.params.id, request.body.required),
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/verifications',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['verification'],
        summary:
          "Who has confirmed each of the deployment's newest alerts, and how many confirmations each waits for",
        params: uuidParams,
        response: {
          200: {
            type: 'object',
            properties: { ...policySchema.properties, alerts: { type: 'array', items: stateSchema } },
            required: ['deploymentId', 'required', 'alerts'],
          },
          ...errorResponses(...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => verification.states(request.user!, request.params.id),
  );

  app.post<{ Params: { id: string }; Body: { note?: string } }>(
    '/alerts/:id/verifications',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['verification'],
        summary: 'Confirm an alert of a two-person deployment',
        description:
          'The second confirmation by a different operator records the `confirmed` outcome (sent live as `adjudication`); until then `confirmed`, `engaged`, `arrested` and passing the alert to an officer answer 409 `verification_required`. The same operator twice: 409 `already_verified`; a deployment without the rule: 409 `verification_not_required`. Audited (`alert.verify`).',
        params: alertIdParams,
        body: {
          type: 'object',
          properties: { note: { type: 'string', maxLength: 2000 } },
          additionalProperties: false,
        },
        response: { 201: stateSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await verification.confirm(request.user!, request.params.id, request.body?.note)),
  );
}
