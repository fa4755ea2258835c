/** A force's published record of its deployments: figures only, no names, images or subject ids. */
import { type Static, Type } from 'typebox';
import { DEPLOYMENT_STATUSES } from './deployments.js';
import { DateTime, Nullable, NullableDateTime, NullableString, StringEnum, Uuid } from './schema.js';
import { SUBJECT_CATEGORIES, SUBJECT_PRIORITIES } from './values.js';

const Count = (options: Record<string, unknown> = {}) => Type.Integer({ minimum: 0, ...options });

/** An object of counts (each at least 0), one for each of `keys`, all present. */
function CountsOf<const Keys extends readonly string[]>(keys: Keys) {
  return Type.Unsafe<Record<Keys[number], number>>({
    type: 'object',
    properties: Object.fromEntries(keys.map((key) => [key, { type: 'integer', minimum: 0 }])),
    required: [...keys],
  });
}

/** What the published false alert figure rests on. */
export const ExpectedFalseAlerts = Type.Object({
  calibrationId: Type.String(),
  dataset: Type.String(),
  calibratedAt: DateTime(),
  /** The calibrated threshold used: the highest at or below the deployment's (the cautious side). */
  calibratedThreshold: Type.Number(),
  /** Per-comparison false match rate at that threshold. */
  falseMatchRate: Type.Number(),
  /** True when no false match was measured and the rate is the rule-of-three bound (3 / comparisons). */
  upperBound: Type.Boolean(),
  /** Chance that a face of someone not on the list alerts: 1 - (1 - FMR)^watchlist size. */
  perFace: Type.Number(),
  per1000Faces: Type.Number(),
  /** perFace x faces seen: the false alerts to expect from this deployment's crowd. */
  forFacesSeen: Type.Number(),
});
export type ExpectedFalseAlerts = Static<typeof ExpectedFalseAlerts>;

/** One deployment's figures as a force publishes them. */
export const PublishedRecord = Type.Object({
  deploymentId: Uuid(),
  deployment: Type.String({ description: "The deployment's (operation's) name" }),
  location: Type.String(),
  date: Nullable(Type.String(), { description: 'YYYY-MM-DD it started (UTC)' }),
  startedAt: NullableDateTime(),
  stoppedAt: NullableDateTime(),
  durationSeconds: Nullable(Type.Integer()),
  status: StringEnum(DEPLOYMENT_STATUSES),
  watchlist: Type.Object({
    size: Count(),
    byCategory: CountsOf(SUBJECT_CATEGORIES),
    byPriority: CountsOf(SUBJECT_PRIORITIES),
  }),
  facesSeen: Count(),
  alerts: Count(),
  trueAlerts: Count({ description: 'confirmed, engaged or arrested' }),
  falseAlerts: Count(),
  unresolvedAlerts: Count({ description: 'no outcome recorded, or not stopped' }),
  engagements: Count({ description: 'engaged or arrested' }),
  arrests: Count(),
  threshold: Type.Number(),
  thresholdChanges: Count(),
  model: Type.String(),
  twoPersonVerification: Type.Boolean(),
  expectedFalseAlerts: Type.Union([Type.Null(), ExpectedFalseAlerts], {
    description:
      "From the newest calibration of the model (POST /oversight/calibrations), else the model profile's own false match rates; null without either",
  }),
});
export type PublishedRecord = Static<typeof PublishedRecord>;

/** The published record of a period: each deployment and the totals. */
export const PublishedPeriod = Type.Object({
  from: NullableDateTime(),
  to: NullableDateTime(),
  generatedAt: DateTime(),
  deployments: Type.Array(PublishedRecord),
  totals: CountsOf([
    'deployments',
    'facesSeen',
    'alerts',
    'trueAlerts',
    'falseAlerts',
    'engagements',
    'arrests',
  ]),
});
export type PublishedPeriod = Static<typeof PublishedPeriod>;

/** `?from&to`: a time window of ISO dates or date-times. */
export const WindowQuery = Type.Object(
  {
    from: Type.Optional(
      Type.String({
        maxLength: 40,
        description:
          'ISO date or date-time; counts at or after it (hours of counters, capture time of alerts)',
      }),
    ),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date or date-time; counts before it' })),
  },
  { additionalProperties: false },
);
export type WindowQuery = Static<typeof WindowQuery>;

export const USE_LOG_EVENTS = [
  'started',
  'stopped',
  'threshold_changed',
  'verification_required',
  'snapshot_destroyed',
  'alert',
  'verification',
  'outcome',
] as const;

/** `GET /deployments/:id/use-log`: the log of each use of a deployment. */
export const UseLog = Type.Object({
  deploymentId: Uuid(),
  retentionDays: Type.Number(),
  from: NullableDateTime(),
  to: NullableDateTime(),
  entries: Type.Array(
    Type.Object({
      id: Type.String(),
      at: DateTime(),
      event: StringEnum(USE_LOG_EVENTS),
      alertId: NullableString(),
      details: Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true }),
    }),
  ),
});
export type UseLog = Static<typeof UseLog>;

const CalibrationRows = Type.Array(
  Type.Object({
    threshold: Type.Number({ minimum: -1, maximum: 1 }),
    fmr: Type.Number({ minimum: 0, maximum: 1 }),
    tpir: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  }),
  { minItems: 1, maxItems: 200 },
);

/** `POST /oversight/calibrations`. */
export const CalibrationInput = Type.Object(
  {
    model: Type.String({ minLength: 1, maxLength: 200 }),
    dataset: Type.Optional(Type.String({ maxLength: 200 })),
    nonMatedComparisons: Type.Integer({ minimum: 1 }),
    rows: CalibrationRows,
  },
  { description: 'The output of `vigil calibrate --json` (other fields are kept out)' },
);
export type CalibrationInput = Static<typeof CalibrationInput>;

/** A stored calibration of a model. */
export const Calibration = Type.Object({
  id: Type.String(),
  model: Type.String(),
  dataset: Type.String(),
  nonMatedComparisons: Type.Integer(),
  rows: CalibrationRows,
  createdBy: NullableString(),
  createdAt: DateTime(),
});
export type Calibration = Static<typeof Calibration>;

export const CalibrationList = Type.Array(Calibration);
