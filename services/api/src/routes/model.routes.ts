import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AUTH_ERRORS, errorResponses, ModelInfo } from '@vigil/contract';
import type { FalseMatchRates } from '@vigil/face-runtime';
import type { FastifyInstance } from 'fastify';
import { USER_ROLES } from '../auth/roles.js';
import type { StoredCalibration } from '../oversight/calibration.repository.js';

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
  /** The profile's own false match rates; null when it carries none. */
  falseMatchRates: FalseMatchRates | null;
}

export interface ModelRoutesOptions {
  model: ModelSettings;
  /** The newest calibration stored for a model (`POST /oversight/calibrations`), if any. */
  latestCalibration: (model: string) => Promise<StoredCalibration | undefined>;
}

/**
 * `GET /model`: the profile's default threshold and floor, so clients never hard-code either, and the
 * false match rates a threshold's expected false alerts are worked out from.
 */
export async function modelRoutes(fastify: FastifyInstance, options: ModelRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/model',
    {
      onRequest: app.requireRoles(...USER_ROLES),
      schema: {
        tags: ['system'],
        summary: "The loaded model profile: its default threshold and the deployments' threshold floor",
        response: { 200: ModelInfo, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => {
      const { falseMatchRates: profileRates, ...model } = options.model;
      const stored = model.modelId ? await options.latestCalibration(model.modelId) : undefined;
      const falseMatchRates: ModelInfo['falseMatchRates'] = stored
        ? {
            source: 'calibration',
            dataset: stored.dataset,
            comparisons: stored.nonMatedComparisons,
            measuredOn: stored.createdAt.slice(0, 10),
            points: stored.rows.map(({ threshold, fmr }) => ({ threshold, fmr })),
          }
        : profileRates
          ? { source: 'profile', ...profileRates }
          : null;
      return { ...model, falseMatchRates };
    },
  );
}
