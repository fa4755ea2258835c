import { errorResponses } from '@vigil/contract';
import { bearerToken, tokenMatches, type VigilMetrics } from '@vigil/core';
import type { FastifyInstance } from 'fastify';

export interface MetricsRoutesOptions {
  metrics: VigilMetrics;
  /** VIGIL_METRICS_TOKEN: a scrape token accepted besides an admin's login token. */
  scrapeToken?: string | undefined;
}

const metricsSchema = {
  tags: ['system'],
  summary: 'Prometheus metrics of this process (admin token or the scrape token)',
  description:
    'Prometheus text format 0.0.4. Labels are limited to deployment and camera ids and stage, role and reason words: no biometric data.',
  response: {
    200: {
      description: 'Prometheus text exposition',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
    ...errorResponses(401, 403),
  },
} as const;

/** `GET /metrics`: not public; a scraper presents VIGIL_METRICS_TOKEN, a person an admin login. */
export async function metricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): Promise<void> {
  const adminOnly = app.requireRoles('admin');
  app.get(
    '/metrics',
    {
      schema: metricsSchema,
      preHandler: async (request, reply) => {
        if (
          options.scrapeToken &&
          tokenMatches(bearerToken(request.headers.authorization), options.scrapeToken)
        ) {
          return;
        }
        await adminOnly(request, reply);
      },
    },
    async (_request, reply) => {
      const text = await options.metrics.text();
      return reply.header('cache-control', 'no-store').type(options.metrics.contentType).send(text);
    },
  );
}
