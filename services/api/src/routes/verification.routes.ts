import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AlertIdParams,
  AUTH_ERRORS,
  ConfirmationInput,
  errorResponses,
  UuidParams,
  VerificationPolicy,
  VerificationPolicyInput,
  VerificationState,
  VerificationStates,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import type { VerificationService } from '../verification/verification.service.js';

/** Two-person verification: the deployment's rule, each operator's confirmation, and who is waiting. */
export async function verificationRoutes(
  fastify: FastifyInstance,
  options: { verification: VerificationService },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { verification } = options;

  app.get(
    '/deployments/:id/verification',
    {
      onRequest: app.requireRoles('admin', 'operator', 'oversight'),
      schema: {
        tags: ['verification'],
        summary: 'Whether the deployment requires two-person verification of alerts',
        params: UuidParams,
        response: { 200: VerificationPolicy, ...errorResponses(...AUTH_ERRORS, 404) },
      },
    },
    async (request) => verification.policy(request.user!, request.params.id),
  );

  app.put(
    '/deployments/:id/verification',
    {
      onRequest: app.requireRoles('admin'),
      schema: {
        tags: ['verification'],
        summary: 'Require (or stop requiring) two different operators to confirm each alert',
        description:
          'Can be turned on until the deployment stops, and off only before it starts (409 `invalid_deployment_state`). Audited (`deployment.verification_policy`) and on the use log.',
        params: UuidParams,
        body: VerificationPolicyInput,
        response: { 200: VerificationPolicy, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => verification.setRequired(request.user!, request.params.id, request.body.required),
  );

  app.get(
    '/deployments/:id/verifications',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['verification'],
        summary:
          "Who has confirmed each of the deployment's newest alerts, and how many confirmations each waits for",
        params: UuidParams,
        response: {
          200: VerificationStates,
          ...errorResponses(...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => verification.states(request.user!, request.params.id),
  );

  app.post(
    '/alerts/:id/verifications',
    {
      onRequest: app.requireRoles('operator', 'admin'),
      schema: {
        tags: ['verification'],
        summary: 'Confirm an alert of a two-person deployment',
        description:
          'The second confirmation by a different operator records the `confirmed` outcome (sent live as `adjudication`); until then `confirmed`, `engaged`, `arrested` and passing the alert to an officer answer 409 `verification_required`. The same operator twice: 409 `already_verified`; a deployment without the rule: 409 `verification_not_required`. Audited (`alert.verify`).',
        params: AlertIdParams,
        body: ConfirmationInput,
        response: { 201: VerificationState, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await verification.confirm(request.user!, request.params.id, request.body?.note)),
  );
}
