import {
  type AlertFigures,
  type DeploymentStats,
  type DeploymentSummary,
  type HourFigures,
  NOT_ANALYSED_REASONS,
  type NotAnalysedReason,
  type OversightStats,
  STATS_OUTCOMES,
  type StatsOutcome,
  SUBJECT_CATEGORIES,
} from '@vigil/contract';
import { type AuditRepository, NotFoundError, ValidationError } from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import type {
  CategoryCount,
  CounterHour,
  DeploymentFacts,
  NotAnalysedHour,
  OutcomeHour,
  StatsRepository,
  TimeWindow,
} from './stats.repository.js';

export type { AlertFigures, DeploymentStats, DeploymentSummary, HourFigures, OversightStats };

/** Adjudication outcomes, plus `unresolved` for an alert nobody adjudicated. */
export const OUTCOMES = STATS_OUTCOMES;
export type Outcome = StatsOutcome;

/**
 * Outcomes that say the person was the subject. `not_stopped` and `unresolved` say nothing either
 * way, so they count as neither true nor false.
 */
export const TRUE_OUTCOMES: readonly Outcome[] = ['confirmed', 'engaged', 'arrested'];

export const CATEGORIES = SUBJECT_CATEGORIES;

/** Frames read and never analysed, in all and by reason. */
type NotAnalysedFigures = AlertFigures['framesNotAnalysed'];

function emptyOutcomes(): Record<Outcome, number> {
  return Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
}

function isOutcome(value: string): value is Outcome {
  return (OUTCOMES as readonly string[]).includes(value);
}

function notAnalysedFigures(rows: NotAnalysedHour[]): NotAnalysedFigures {
  const byReason = Object.fromEntries(NOT_ANALYSED_REASONS.map((r) => [r, 0])) as Record<
    NotAnalysedReason,
    number
  >;
  for (const row of rows)
    if ((NOT_ANALYSED_REASONS as readonly string[]).includes(row.reason))
      byReason[row.reason as NotAnalysedReason] += row.frames;
  return { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason };
}

function figures(
  counters: CounterHour[],
  outcomes: OutcomeHour[],
  notAnalysed: NotAnalysedHour[],
): AlertFigures {
  const byOutcome = emptyOutcomes();
  for (const row of outcomes) if (isOutcome(row.outcome)) byOutcome[row.outcome] += row.alerts;
  const framesProcessed = counters.reduce((sum, row) => sum + row.frames, 0);
  const framesRead = counters.reduce((sum, row) => sum + row.framesRead, 0);
  const facesProcessed = counters.reduce((sum, row) => sum + row.facesProcessed, 0);
  const alerts = OUTCOMES.reduce((sum, outcome) => sum + byOutcome[outcome], 0);
  const trueAlerts = TRUE_OUTCOMES.reduce((sum, outcome) => sum + byOutcome[outcome], 0);
  const falseAlerts = byOutcome.false_alert;
  return {
    framesRead,
    framesNotAnalysed: notAnalysedFigures(notAnalysed),
    watchedShare: framesRead > 0 ? Math.min(1, framesProcessed / framesRead) : null,
    framesProcessed,
    facesProcessed,
    alerts,
    outcomes: byOutcome,
    trueAlerts,
    falseAlerts,
    falseAlertRate: {
      perFacesProcessed: facesProcessed > 0 ? falseAlerts / facesProcessed : null,
      perAlerts: alerts > 0 ? falseAlerts / alerts : null,
    },
  };
}

function series(counters: CounterHour[], outcomes: OutcomeHour[]): HourFigures[] {
  const hours = new Map<string, HourFigures>();
  const at = (hour: Date) => {
    const key = hour.toISOString();
    let entry = hours.get(key);
    if (!entry) {
      entry = { hour: key, framesProcessed: 0, facesProcessed: 0, alerts: 0, trueAlerts: 0, falseAlerts: 0 };
      hours.set(key, entry);
    }
    return entry;
  };
  for (const row of counters) {
    const entry = at(row.hour);
    entry.framesProcessed += row.frames;
    entry.facesProcessed += row.facesProcessed;
  }
  for (const row of outcomes) {
    const entry = at(row.hour);
    entry.alerts += row.alerts;
    if ((TRUE_OUTCOMES as readonly string[]).includes(row.outcome)) entry.trueAlerts += row.alerts;
    if (row.outcome === 'false_alert') entry.falseAlerts += row.alerts;
  }
  return [...hours.values()].sort((a, b) => (a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0));
}

function summary(
  deployment: DeploymentFacts,
  counters: CounterHour[],
  outcomes: OutcomeHour[],
  notAnalysed: NotAnalysedHour[],
  sizes: CategoryCount[],
  now: Date,
): DeploymentSummary {
  const byCategory = Object.fromEntries(
    CATEGORIES.map((c) => [c, 0]),
  ) as DeploymentSummary['watchlist']['byCategory'];
  let source: 'snapshot' | 'current' = deployment.startedAt ? 'snapshot' : 'current';
  for (const row of sizes) {
    if ((CATEGORIES as readonly string[]).includes(row.category))
      byCategory[row.category as keyof typeof byCategory] += row.subjects;
    source = row.source;
  }
  const end = deployment.stoppedAt ?? now;
  return {
    deploymentId: deployment.id,
    name: deployment.name,
    location: deployment.location,
    status: deployment.status,
    model: deployment.model,
    threshold: deployment.threshold,
    startedAt: deployment.startedAt?.toISOString() ?? null,
    stoppedAt: deployment.stoppedAt?.toISOString() ?? null,
    durationSeconds: deployment.startedAt
      ? Math.max(0, Math.round((end.getTime() - deployment.startedAt.getTime()) / 1000))
      : null,
    cameras: deployment.cameras,
    watchlist: { size: Object.values(byCategory).reduce((a, b) => a + b, 0), byCategory, source },
    ...figures(counters, outcomes, notAnalysed),
  };
}

function checkWindow(window: TimeWindow): void {
  if (window.from && window.to && window.from >= window.to)
    throw new ValidationError('`from` must be before `to`', 'invalid_time_window');
}

/**
 * Published figures per deployment and across deployments: faces processed, alerts, outcomes and
 * false alert rates, with the threshold and watchlist size they were obtained at. Counts only.
 */
export class StatsService {
  readonly #stats: StatsRepository;
  readonly #audit: AuditRepository;

  constructor(
    repositories: Pick<Repositories, 'stats' | 'audit'>,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#stats = repositories.stats;
    this.#audit = repositories.audit;
  }

  async deployment(id: string, window: TimeWindow = {}): Promise<DeploymentStats> {
    checkWindow(window);
    const deployment = isUuid(id) ? await this.#stats.deployment(id) : undefined;
    if (!deployment) throw new NotFoundError('deployment');
    const [counters, outcomes, notAnalysed, sizes] = await Promise.all([
      this.#stats.counters([id], window),
      this.#stats.outcomes([id], window),
      this.#stats.notAnalysed([id], window),
      this.#stats.watchlistSizes([id], this.now()),
    ]);
    return {
      ...summary(deployment, counters, outcomes, notAnalysed, sizes, this.now()),
      from: window.from?.toISOString() ?? null,
      to: window.to?.toISOString() ?? null,
      series: series(counters, outcomes),
    };
  }

  /** Every deployment that ran during the window (all that ever ran without one). */
  async overall(window: TimeWindow = {}): Promise<OversightStats> {
    checkWindow(window);
    const now = this.now();
    const deployments = await this.#stats.deployments({ ranDuring: window });
    const ids = deployments.map((d) => d.id);
    const [counters, outcomes, notAnalysed, sizes] = await Promise.all([
      this.#stats.counters(ids, window),
      this.#stats.outcomes(ids, window),
      this.#stats.notAnalysed(ids, window),
      this.#stats.watchlistSizes(ids, now),
    ]);
    const summaries = deployments.map((d) =>
      summary(
        d,
        counters.filter((row) => row.deploymentId === d.id),
        outcomes.filter((row) => row.deploymentId === d.id),
        notAnalysed.filter((row) => row.deploymentId === d.id),
        sizes.filter((row) => row.deploymentId === d.id),
        now,
      ),
    );
    return {
      from: window.from?.toISOString() ?? null,
      to: window.to?.toISOString() ?? null,
      totals: {
        deployments: summaries.length,
        cameras: summaries.reduce((sum, s) => sum + s.cameras, 0),
        durationSeconds: summaries.reduce((sum, s) => sum + (s.durationSeconds ?? 0), 0),
        ...figures(counters, outcomes, notAnalysed),
      },
      deployments: summaries,
      series: series(counters, outcomes),
    };
  }

  /** Records that `actor` exported statistics (CSV): exports are on the audit trail. */
  async recordExport(
    actor: AuthUser,
    what: { scope: 'deployment' | 'oversight'; deploymentId?: string; series: boolean; window: TimeWindow },
  ): Promise<void> {
    await this.#audit.append({
      actorId: actor.id,
      actorName: actor.username,
      action: 'stats.export',
      targetType: what.scope === 'deployment' ? 'deployment' : 'oversight',
      targetId: what.deploymentId ?? '',
      details: {
        format: 'csv',
        series: what.series,
        from: what.window.from?.toISOString() ?? null,
        to: what.window.to?.toISOString() ?? null,
      },
    });
  }
}

const SUMMARY_COLUMNS = [
  'deployment_id',
  'name',
  'location',
  'status',
  'model',
  'threshold',
  'started_at',
  'stopped_at',
  'duration_seconds',
  'cameras',
  'watchlist_size',
  ...CATEGORIES.map((c) => `watchlist_${c}`),
  'frames_processed',
  'faces_processed',
  'alerts',
  ...OUTCOMES,
  'true_alerts',
  'false_alerts',
  'false_alert_rate_per_faces',
  'false_alert_rate_per_alerts',
  'frames_read',
  'frames_not_analysed',
  ...NOT_ANALYSED_REASONS.map((r) => `not_analysed_${r}`),
  'watched_share',
] as const;

const SERIES_COLUMNS = [
  'hour',
  'frames_processed',
  'faces_processed',
  'alerts',
  'true_alerts',
  'false_alerts',
];

/** One CSV field: quoted when it holds a comma, quote or newline; a leading =+-@ is defused for spreadsheets. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csv(header: readonly string[], rows: unknown[][]): string {
  return `${[header, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function summaryRow(
  s: DeploymentSummary | (AlertFigures & { deploymentId: string; name: string }),
): unknown[] {
  const d = s as Partial<DeploymentSummary> & AlertFigures & { deploymentId: string; name: string };
  return [
    d.deploymentId,
    d.name,
    d.location ?? '',
    d.status ?? '',
    d.model ?? '',
    d.threshold ?? '',
    d.startedAt ?? '',
    d.stoppedAt ?? '',
    d.durationSeconds ?? '',
    d.cameras ?? '',
    d.watchlist?.size ?? '',
    ...CATEGORIES.map((c) => d.watchlist?.byCategory[c] ?? ''),
    d.framesProcessed,
    d.facesProcessed,
    d.alerts,
    ...OUTCOMES.map((o) => d.outcomes[o]),
    d.trueAlerts,
    d.falseAlerts,
    d.falseAlertRate.perFacesProcessed ?? '',
    d.falseAlertRate.perAlerts ?? '',
    d.framesRead,
    d.framesNotAnalysed.total,
    ...NOT_ANALYSED_REASONS.map((r) => d.framesNotAnalysed.byReason[r]),
    d.watchedShare ?? '',
  ];
}

/** CSV of statistics: one row per deployment (and a `total` row across them), or one per hour. */
export function statsCsv(stats: DeploymentStats | OversightStats, hourly: boolean): string {
  if (hourly)
    return csv(
      SERIES_COLUMNS,
      stats.series.map((h) => [
        h.hour,
        h.framesProcessed,
        h.facesProcessed,
        h.alerts,
        h.trueAlerts,
        h.falseAlerts,
      ]),
    );
  if ('totals' in stats) {
    const total = { ...stats.totals, deploymentId: 'total', name: '' };
    const row = summaryRow(total);
    // Totals: cameras and duration are sums; the rest of the deployment columns do not apply.
    row[8] = stats.totals.durationSeconds;
    row[9] = stats.totals.cameras;
    return csv(SUMMARY_COLUMNS, [...stats.deployments.map(summaryRow), row]);
  }
  return csv(SUMMARY_COLUMNS, [summaryRow(stats)]);
}
