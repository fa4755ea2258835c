/** Liveness, readiness and the loaded model profile. */
import { type Static, Type } from 'typebox';
import { ErrorBody } from './common.js';
import { NullableString, StringEnum } from './schema.js';

/** `GET /health`. */
export const Health = Type.Object({ status: StringEnum(['ok']) });

const readinessChecks = Type.Unsafe<Record<string, { ok: boolean; error?: string; advisory?: boolean }>>({
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
});

/** `GET /ready` when ready. */
export const Ready = Type.Object(
  { status: StringEnum(['ready']), checks: readinessChecks },
  { description: 'Ready to serve' },
);

/** `GET /ready` when not. */
export const NotReady = Type.Object(
  { status: StringEnum(['not_ready']), checks: readinessChecks, error: ErrorBody.properties.error },
  { description: 'Not ready: `checks` and `error.message` say which check failed' },
);

/** False match rates as `GET /model` gives them (a stored calibration, else the profile's own). */
export const FalseMatchRates = Type.Object({
  source: StringEnum(['calibration', 'profile']),
  dataset: Type.String(),
  comparisons: Type.Number(),
  measuredOn: Type.String(),
  points: Type.Array(Type.Object({ threshold: Type.Number(), fmr: Type.Number() })),
});
export type FalseMatchRates = Static<typeof FalseMatchRates>;

/** `GET /model`. */
export const ModelInfo = Type.Object({
  profile: NullableString(),
  modelId: NullableString(),
  defaultThreshold: Type.Number(),
  thresholdFloor: Type.Number(),
  falseMatchRates: Type.Union([Type.Null(), FalseMatchRates], {
    description:
      "At each threshold, the share of comparisons of someone not on a list with a listed person that reached it; a deployment's expected false alerts per face are 1 - (1 - FMR)^N for N entries. A calibration stored for the model replaces the profile's own.",
  }),
});
export type ModelInfo = Static<typeof ModelInfo>;
