import { type ReadinessRegistry, readinessBody } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import { errorSchema } from './schemas.js';

export interface ReadyRoutesOptions {
  readiness: ReadinessRegistry;
}

const checksSchema = {
  type: 'object',
  description:
    'One entry per check (database, bus, models, ...); `error` is a short code. An `advisory` check ' +
    '(`ingest`, `detector`: cameras whose frames are not read, or read but not analysed) is reported ' +
    'without making the process unready',
  additionalProperties: {
    type: 'object',
    properties: { ok: { type: 'boolean' }, error: { type: 'string' }, advisory: { type: 'boolean' } },
    required: ['ok'],
  },
} as const;

const readySchema = {
  tags: ['system'],
  summary: 'Readiness: the database answers, the bus is connected, the models are loaded',
  security: [],
  response: {
    200: {
      description: 'Ready to serve',
      type: 'object',
      properties: { status: { type: 'string', enum: ['ready'] }, checks: checksSchema },
      required: ['status', 'checks'],
    },
    503: {
      description: 'Not ready: `checks` and `error.message` say which check failed',
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['not_ready'] },
        checks: checksSchema,
        error: errorSchema.properties.error,
      },
      required: ['status', 'checks', 'error'],
    },
  },
} as const;

/** `/ready` and `/api/v1/ready` for load balancers and Kubernetes; liveness stays `/health`. */
export async function readyRoutes(app: FastifyInstance, options: ReadyRoutesOptions): Promise<void> {
  app.get('/ready', { schema: readySchema }, async (_request, reply) => {
    const report = await options.readiness.check();
    return reply
      .header('cache-control', 'no-store')
      .status(report.ready ? 200 : 503)
      .send(readinessBody(report));
  });
}
