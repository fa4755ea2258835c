import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  errorResponses,
  RetentionReport,
  ThresholdChange,
  ThresholdChangeInput,
  UuidParams,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import type { RetentionService } from '../oversight/retention.service.js';
import type { ThresholdService } from '../oversight/threshold.service.js';

export interface OversightRoutesOptions {
  retention: RetentionService;
  thresholds: ThresholdService;
}

/**
 * Governance actions: running retention now (admin) and changing a deployment's threshold (admin,
 * refused below VIGIL_THRESHOLD_FLOOR, audited with old and new values).
 */
export async function oversightRoutes(
  fastify: FastifyInstance,
  options: OversightRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const adminOnly = app.requireRoles('admin');

  app.post(
    '/oversight/retention/run',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['oversight'],
        summary: 'Run retention now: expired snapshots, alerts and subjects deleted, each deletion audited',
        response: { 200: RetentionReport, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => options.retention.run({ id: request.user!.id, username: request.user!.username }),
  );

  app.patch(
    '/deployments/:id/threshold',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['oversight', 'deployments'],
        summary: "Change a planned or running deployment's similarity threshold (not below the floor)",
        params: UuidParams,
        body: ThresholdChangeInput,
        response: {
          200: ThresholdChange,
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409),
        },
      },
    },
    async (request) =>
      options.thresholds.change(
        request.user!,
        request.params.id,
        request.body.threshold,
        request.body.reason,
      ),
  );
}
