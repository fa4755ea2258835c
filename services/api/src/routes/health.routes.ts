import { Health } from '@vigil/contract';
import type { FastifyInstance } from 'fastify';

const healthSchema = {
  tags: ['system'],
  summary: 'Liveness: the process answers',
  security: [],
  response: { 200: Health },
};

/** `/health` and `/api/v1/health`, the only routes besides login and the OpenAPI document that need no token. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', { schema: healthSchema }, async () => ({ status: 'ok' as const }));
}
