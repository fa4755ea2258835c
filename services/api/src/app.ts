import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import type { Bus, Config, Database, Logger } from '@vigil/core';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { errorHandlerPlugin } from './plugins/error-handler.plugin.js';
import { healthRoutes } from './routes/health.routes.js';

export interface AppDependencies {
  config: Config;
  db: Database;
  bus: Bus;
  logger: Logger;
}

/** Where the console's built single-page app lives (services/console/dist). */
export const CONSOLE_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console/dist');

/** Builds the HTTP API (and serves the console). Listening is the caller's business. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }) as unknown as FastifyBaseLogger,
    disableRequestLogging: false,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  });
  await app.register(errorHandlerPlugin);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vigil API',
        version: '1.0.0',
        description: 'Live facial recognition watchlist service',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(healthRoutes);
  await app.register(healthRoutes, { prefix: '/api/v1' });

  if (fs.existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: CONSOLE_DIST,
      prefix: '/',
      index: 'index.html',
      wildcard: false,
    });
  }
  return app;
}
