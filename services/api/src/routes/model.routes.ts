import type { FastifyInstance } from 'fastify';
import { USER_ROLES } from '../auth/roles.js';
import { AUTH_ERRORS, errorResponses } from './schemas.js';

/** The loaded model profile as a deployment's threshold needs it. */
export interface ModelSettings {
  /** Profile name (`default`, `dlib`, ...); null when no profile could be loaded. */
  profile: string | null;
  /** Embedding-space id new deployments get; null when no profile could be loaded. */
  modelId: string | null;
  /** The threshold a new deployment starts from: the profile's default, never below the floor. */
  defaultThreshold: number;
  /** The lowest threshold a deployment may use (VIGIL_THRESHOLD_FLOOR, else the profile's). */
  thresholdFloor: number;
}

export interface ModelRoutesOptions {
  model: ModelSettings;
}

const modelSchema = {
  type: 'object',
  properties: {
    profile: { type: ['string', 'null'] },
    modelId: { type: ['string', 'null'] },
    defaultThreshold: { type: 'number' },
    thresholdFloor: { type: 'number' },
  },
  required: ['profile', 'modelId', 'defaultThreshold', 'thresholdFloor'],
} as const;

/** `GET /model`: the profile's default threshold and floor, so clients never hard-code either. */
export async function modelRoutes(app: FastifyInstance, options: ModelRoutesOptions): Promise<void> {
  app.get(
    '/model',
    {
      onRequest: app.requireRoles(...USER_ROLES),
      schema: {
        tags: ['system'],
        summary: "The loaded model profile: its default threshold and the deployments' threshold floor",
        response: { 200: modelSchema, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => options.model,
  );
}
