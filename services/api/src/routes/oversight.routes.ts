import type { FastifyInstance } from 'fastify';
import type { RetentionService } from '../oversight/retention.service.js';
import type { ThresholdService } from '../oversight/threshold.service.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

const count = { type: 'integer', minimum: 0 } as const;

const retentionReportSchema = {
  type: 'object',
  description: 'What one retention run deleted (counts only)',
  properties: {
    ranAt: { type: 'string', format: 'date-time' },
    skipped: { type: 'boolean', description: 'another process was running retention; nothing done' },
    alertCutoff: {
      type: 'string',
      format: 'date-time',
      description: 'alerts captured before this were deleted',
    },
    snapshots: {
      type: 'array',
      items: {
        type: 'object',
        properties: { deploymentId: { type: 'string', format: 'uuid' }, entries: count },
        required: ['deploymentId', 'entries'],
      },
    },
    alerts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          deploymentId: { type: 'string', format: 'uuid' },
          alerts: count,
          crops: count,
          adjudications: count,
          dispatches: count,
        },
        required: ['deploymentId', 'alerts', 'crops', 'adjudications', 'dispatches'],
      },
    },
    subjects: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          subjectId: { type: 'string', format: 'uuid' },
          watchlistId: { type: 'string', format: 'uuid' },
          referenceImages: count,
          embeddings: count,
          snapshotEntries: count,
        },
        required: ['subjectId', 'watchlistId', 'referenceImages', 'embeddings', 'snapshotEntries'],
      },
    },
    useLog: {
      type: 'array',
      description: 'use log entries past VIGIL_USE_LOG_RETENTION_DAYS, deleted',
      items: {
        type: 'object',
        properties: { deploymentId: { type: 'string', format: 'uuid' }, entries: count },
        required: ['deploymentId', 'entries'],
      },
    },
    compacted: { type: 'array', items: { type: 'string' }, description: 'tables rewritten with VACUUM FULL' },
    notCompacted: {
      type: 'array',
      items: { type: 'string' },
      description: 'tables that lost rows but this database role does not own, so could not rewrite',
    },
  },
  required: [
    'ranAt',
    'skipped',
    'alertCutoff',
    'snapshots',
    'alerts',
    'subjects',
    'compacted',
    'notCompacted',
  ],
} as const;

export interface OversightRoutesOptions {
  retention: RetentionService;
  thresholds: ThresholdService;
}

/**
 * Governance actions: running retention now (admin) and changing a deployment's threshold (admin,
 * refused below VIGIL_THRESHOLD_FLOOR, audited with old and new values).
 */
export async function oversightRoutes(app: FastifyInstance, options: OversightRoutesOptions): Promise<void> {
  const adminOnly = app.requireRoles('admin');

  app.post(
    '/oversight/retention/run',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['oversight'],
        summary: 'Run retention now: expired snapshots, alerts and subjects deleted, each deletion audited',
        response: { 200: retentionReportSchema, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => options.retention.run({ id: request.user!.id, username: request.user!.username }),
  );

  app.patch<{ Params: { id: string }; Body: { threshold: number; reason?: string } }>(
    '/deployments/:id/threshold',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['oversight', 'deployments'],
        summary: "Change a planned or running deployment's similarity threshold (not below the floor)",
        params: uuidParams,
        body: {
          type: 'object',
          properties: {
            threshold: { type: 'number', maximum: 1 },
            reason: { type: 'string', maxLength: 1000, description: 'why; kept on the audit trail' },
          },
          required: ['threshold'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              deploymentId: { type: 'string', format: 'uuid' },
              previousThreshold: { type: 'number' },
              threshold: { type: 'number' },
            },
            required: ['deploymentId', 'previousThreshold', 'threshold'],
          },
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
