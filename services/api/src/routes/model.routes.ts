import type { FalseMatchRates } from '@vigil/face-runtime';
import type { FastifyInstance } from 'fastify';
import { USER_ROLES } from '../auth/roles.js';
import type { StoredCalibration } from '../oversight/calibration.repository.js';
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
  /** The profile's own false match rates; null when it carries none. */
  falseMatchRates: FalseMatchRates | null;
}

export interface ModelRoutesOptions {
  model: ModelSettings;
  /** The newest calibration stored for a model (`POST /oversight/calibrations`), if any. */
  latestCalibration: (model: string) => Promise<StoredCalibration | undefined>;
}

/** False match rates as GET /model answers them, with where they come from. */
export interface ModelFalseMatchRates extends FalseMatchRates {
  /** `calibration`: measured here and stored; `profile`: the model profile's own measurement. */
  source: 'calibration' | 'profile';
}

const modelSchema = {
  type: 'object',
  properties: {
    profile: { type: ['string', 'null'] },
    modelId: { type: ['string', 'null'] },
    defaultThreshold: { type: 'number' },
    thresholdFloor: { type: 'number' },
    falseMatchRates: {
      description:
        "At each threshold, the share of comparisons of someone not on a list with a listed person that reached it; a deployment's expected false alerts per face are 1 - (1 - FMR)^N for N entries. A calibration stored for the model replaces the profile's own.",
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            source: { type: 'string', enum: ['calibration', 'profile'] },
            dataset: { type: 'string' },
            comparisons: { type: 'number' },
            measuredOn: { type: 'string' },
            points: {
              type: 'array',
              items: {
                type: 'object',
                properties: { threshold: { type: 'number' }, fmr: { type: 'number' } },
                required: ['threshold', 'fmr'],
              },
            },
          },
          required: ['source', 'dataset', 'comparisons', 'measuredOn', 'points'],
        },
      ],
    },
  },
  required: ['profile', 'modelId', 'defaultThreshold', 'thresholdFloor', 'falseMatchRates'],
} as const;

/**
 * `GET /model`: the profile's default threshold and floor, so clients never hard-code either, and the
 * false match rates a threshold's expected false alerts are worked out from.
 */
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
    async () => {
      const { falseMatchRates: profileRates, ...model } = options.model;
      const stored = model.modelId ? await options.latestCalibration(model.modelId) : undefined;
      const falseMatchRates: ModelFalseMatchRates | null = stored
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
