/** Statistics of deployments (`GET /deployments/:id/stats`, `GET /oversight/stats`): counts only. */
import { type Static, Type } from 'typebox';
import { WindowQuery } from './published-records.js';
import { DateTime, Nullable, NullableDateTime, StringEnum, Uuid } from './schema.js';
import { NOT_ANALYSED_REASONS, OUTCOMES, SUBJECT_CATEGORIES } from './values.js';

/** Adjudication outcomes, plus `unresolved` for an alert nobody adjudicated. */
export const STATS_OUTCOMES = [...OUTCOMES, 'unresolved'] as const;
export type StatsOutcome = (typeof STATS_OUTCOMES)[number];

const Count = (options: Record<string, unknown> = {}) => Type.Integer({ minimum: 0, ...options });
const Rate = (options: Record<string, unknown> = {}) => Nullable(Type.Number({ minimum: 0 }), options);

/** A count for each of `keys`, all present and none negative. */
function CountsOf<const Keys extends readonly string[]>(keys: Keys, options: Record<string, unknown> = {}) {
  return Type.Unsafe<Record<Keys[number], number>>({
    type: 'object',
    properties: Object.fromEntries(keys.map((key) => [key, { type: 'integer', minimum: 0 }])),
    required: [...keys],
    ...options,
  });
}

/** The counts every statistic has. */
const figures = {
  framesRead: Count({ description: 'Frames ingest read from the cameras' }),
  framesNotAnalysed: Type.Object(
    { total: Count(), byReason: CountsOf(NOT_ANALYSED_REASONS) },
    {
      description:
        'Frames read that no detector analysed: queue_full (ingest fell behind), publish_failed (bus down), detector_busy (a detector dropped it: a newer frame came first, or too old), detector_unavailable (no detector took it)',
    },
  ),
  watchedShare: Nullable(Type.Number({ minimum: 0, maximum: 1 }), {
    description:
      'framesProcessed / framesRead: how much of what the cameras saw was analysed; null when no frame read was counted',
  }),
  framesProcessed: Count({ description: 'Frames a detector analysed' }),
  facesProcessed: Count({ description: 'Faces compared with the watchlist: a count, nothing more' }),
  alerts: Count(),
  outcomes: CountsOf(STATS_OUTCOMES, {
    description: "Alerts by their latest adjudication; 'unresolved' when none",
  }),
  trueAlerts: Count({ description: 'confirmed + engaged + arrested' }),
  falseAlerts: Count({ description: 'false_alert' }),
  falseAlertRate: Type.Object({
    perFacesProcessed: Rate({ description: 'falseAlerts / facesProcessed; null when no face was processed' }),
    perAlerts: Rate({ description: 'falseAlerts / alerts; null without alerts' }),
  }),
};

export const AlertFigures = Type.Object(figures);
export type AlertFigures = Static<typeof AlertFigures>;

/** One hour of a statistic's series. */
export const HourFigures = Type.Object({
  hour: DateTime({ description: 'Start of the hour (UTC)' }),
  framesProcessed: Count(),
  facesProcessed: Count(),
  alerts: Count(),
  trueAlerts: Count(),
  falseAlerts: Count(),
});
export type HourFigures = Static<typeof HourFigures>;

const summary = {
  deploymentId: Uuid(),
  name: Type.String(),
  location: Type.String(),
  status: StringEnum(['planned', 'running', 'stopped']),
  model: Type.String(),
  threshold: Type.Number(),
  startedAt: NullableDateTime(),
  stoppedAt: NullableDateTime(),
  durationSeconds: Nullable(Type.Integer({ minimum: 0 })),
  cameras: Count(),
  watchlist: Type.Object({
    size: Count(),
    byCategory: CountsOf(SUBJECT_CATEGORIES),
    source: StringEnum(['snapshot', 'current'], {
      description: 'snapshot: the list frozen at start; current: not started, the list as it is now',
    }),
  }),
  ...figures,
};

/** One deployment's figures, as a row of the statistics across deployments. */
export const DeploymentSummary = Type.Object(summary);
export type DeploymentSummary = Static<typeof DeploymentSummary>;

export const DeploymentStats = Type.Object(
  {
    ...summary,
    from: NullableDateTime(),
    to: NullableDateTime(),
    series: Type.Array(HourFigures),
  },
  { description: 'Statistics of one deployment: counts only, no images, embeddings or subject labels' },
);
export type DeploymentStats = Static<typeof DeploymentStats>;

export const OversightStats = Type.Object(
  {
    from: NullableDateTime(),
    to: NullableDateTime(),
    totals: Type.Object({
      deployments: Count(),
      cameras: Count(),
      durationSeconds: Count(),
      ...figures,
    }),
    deployments: Type.Array(DeploymentSummary),
    series: Type.Array(HourFigures),
  },
  { description: 'Statistics across the deployments that ran in the window' },
);
export type OversightStats = Static<typeof OversightStats>;

const rows = StringEnum(['deployment', 'hour'], {
  default: 'deployment',
  description: 'CSV only: one row per deployment (with a total row), or one per hour',
});

/** `?from&to&format&rows` of the statistics routes. */
export const StatsQuery = Type.Object(
  {
    ...WindowQuery.properties,
    format: Type.Optional(StringEnum(['json', 'csv'], { default: 'json' })),
    rows: Type.Optional(rows),
  },
  { additionalProperties: false },
);
export type StatsQuery = Static<typeof StatsQuery>;

/** `?from&to&rows` of the `.csv` routes: CSV always. */
export const StatsCsvQuery = Type.Object(
  { ...WindowQuery.properties, rows: Type.Optional(rows) },
  { additionalProperties: false },
);
export type StatsCsvQuery = Static<typeof StatsCsvQuery>;

/** A statistics CSV body. */
export const StatsCsv = Type.String({
  description: 'Statistics as CSV (`?format=csv`, or the `.csv` route)',
});
