import { NotReady, Ready } from '@vigil/contract';
import { type ReadinessRegistry, readinessBody } from '@vigil/core';
import type { FastifyInstance } from 'fastify';

export interface ReadyRoutesOptions {
  readiness: ReadinessRegistry;
}

const readySchema = {
  tags: ['system'],
  summary: 'Readiness: the database answers, the bus is connected, the models are loaded',
  security: [],
  response: { 200: Ready, 503: NotReady },
};

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
