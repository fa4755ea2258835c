import type { AuditRepository } from '@vigil/core';
import type { FalseMatchRates } from '@vigil/face-runtime';
import type { AuthUser } from '../auth/roles.js';
import type { Repositories } from '../repositories.js';
import type { CalibrationPoint, CalibrationRepository, StoredCalibration } from './calibration.repository.js';
import type { PublishedRecordRepository } from './published-record.repository.js';
import {
  type ExpectedFalseAlerts,
  PRIORITIES,
  type PublishedPeriod,
  type PublishedRecord,
} from './published-record.types.js';
import type { TimeWindow } from './stats.repository.js';
import { CATEGORIES, csvField, type DeploymentSummary, type StatsService } from './stats.service.js';

export type { ExpectedFalseAlerts, PublishedPeriod, PublishedRecord } from './published-record.types.js';
export { PRIORITIES } from './published-record.types.js';

/**
 * The false alerts to expect at `threshold` for a list of `watchlistSize`, from a stored
 * calibration: the highest calibrated threshold at or below it, 1 - (1 - FMR)^N per face. Null
 * when the calibration has no threshold that low.
 */
export function expectedFalseAlerts(
  calibration: Pick<StoredCalibration, 'id' | 'dataset' | 'createdAt' | 'nonMatedComparisons' | 'rows'>,
  threshold: number,
  watchlistSize: number,
  facesSeen: number,
): ExpectedFalseAlerts | null {
  let point: CalibrationPoint | undefined;
  // A threshold read back from `real` (0.6000000238) is still at 0.6.
  for (const row of calibration.rows)
    if (row.threshold <= threshold + 1e-6 && (!point || row.threshold > point.threshold)) point = row;
  if (!point) return null;
  const upperBound = point.fmr === 0;
  const fmr = upperBound ? 3 / calibration.nonMatedComparisons : point.fmr;
  const perFace = 1 - (1 - fmr) ** Math.max(0, watchlistSize);
  return {
    calibrationId: calibration.id,
    dataset: calibration.dataset,
    calibratedAt: calibration.createdAt,
    calibratedThreshold: point.threshold,
    falseMatchRate: fmr,
    upperBound,
    perFace,
    per1000Faces: perFace * 1000,
    forFacesSeen: perFace * facesSeen,
  };
}

/**
 * The published record (the figures the Met publishes per deployment) per deployment and per
 * period, from the oversight statistics plus the list's composition and the expected false alerts.
 */
export class PublishedRecordService {
  readonly #calibrations: CalibrationRepository;
  readonly #facts: PublishedRecordRepository;
  readonly #audit: AuditRepository;

  /**
   * `profileRates`: the loaded model profile's own false match rates, used for its model where no
   * calibration was stored (`vigil calibrate` on the force's own data replaces them).
   */
  constructor(
    repositories: Pick<Repositories, 'calibrations' | 'publishedRecords' | 'audit'>,
    private readonly stats: StatsService,
    private readonly profileRates?: { model: string; rates: FalseMatchRates },
  ) {
    this.#calibrations = repositories.calibrations;
    this.#facts = repositories.publishedRecords;
    this.#audit = repositories.audit;
  }

  /** The profile's rates as a calibration of `model`, when they are that model's. */
  #profileCalibration(model: string): StoredCalibration | undefined {
    const profile = this.profileRates;
    if (!profile || profile.model !== model) return undefined;
    return {
      id: `profile:${profile.model}`,
      model: profile.model,
      dataset: `${profile.rates.dataset} (the model profile's own measurement)`,
      nonMatedComparisons: profile.rates.comparisons,
      rows: profile.rates.points,
      createdBy: null,
      // A date-time, as stored calibrations have: midnight UTC of the day measured.
      createdAt: new Date(`${profile.rates.measuredOn}T00:00:00Z`).toISOString(),
    };
  }

  async deployment(id: string, window: TimeWindow = {}): Promise<PublishedRecord> {
    const summary = await this.stats.deployment(id, window);
    const [record] = await this.#records([summary]);
    return record as PublishedRecord;
  }

  /** Every deployment that ran during the period. */
  async period(window: TimeWindow = {}): Promise<PublishedPeriod> {
    const overall = await this.stats.overall(window);
    const deployments = await this.#records(overall.deployments);
    const sum = (pick: (r: PublishedRecord) => number) =>
      deployments.reduce((total, r) => total + pick(r), 0);
    return {
      from: overall.from,
      to: overall.to,
      generatedAt: new Date().toISOString(),
      deployments,
      totals: {
        deployments: deployments.length,
        facesSeen: sum((r) => r.facesSeen),
        alerts: sum((r) => r.alerts),
        trueAlerts: sum((r) => r.trueAlerts),
        falseAlerts: sum((r) => r.falseAlerts),
        engagements: sum((r) => r.engagements),
        arrests: sum((r) => r.arrests),
      },
    };
  }

  /** Records an export of the published record on the audit trail. */
  async recordExport(
    actor: AuthUser,
    what: { format: 'json' | 'csv'; deploymentId?: string; window: TimeWindow },
  ): Promise<void> {
    await this.#audit.append({
      actorId: actor.id,
      actorName: actor.username,
      action: 'published_record.export',
      targetType: what.deploymentId ? 'deployment' : 'oversight',
      targetId: what.deploymentId ?? '',
      details: {
        format: what.format,
        from: what.window.from?.toISOString() ?? null,
        to: what.window.to?.toISOString() ?? null,
      },
    });
  }

  async #records(summaries: DeploymentSummary[]): Promise<PublishedRecord[]> {
    if (summaries.length === 0) return [];
    const ids = summaries.map((s) => s.deploymentId);
    const [priorities, changes, twoPerson, calibrations] = await Promise.all([
      this.#facts.subjectsByPriority(ids),
      this.#facts.thresholdChanges(ids),
      this.#facts.twoPersonVerification(ids),
      this.#calibrations.latest(),
    ]);
    return summaries.map((s) => {
      const byPriority = Object.fromEntries(
        PRIORITIES.map((p) => [p, 0]),
      ) as PublishedRecord['watchlist']['byPriority'];
      for (const row of priorities)
        if (row.deploymentId === s.deploymentId && row.priority in byPriority)
          byPriority[row.priority as keyof typeof byPriority] += row.subjects;
      const calibration = calibrations.find((c) => c.model === s.model) ?? this.#profileCalibration(s.model);
      return {
        deploymentId: s.deploymentId,
        deployment: s.name,
        location: s.location,
        date: s.startedAt?.slice(0, 10) ?? null,
        startedAt: s.startedAt,
        stoppedAt: s.stoppedAt,
        durationSeconds: s.durationSeconds,
        status: s.status,
        watchlist: { size: s.watchlist.size, byCategory: s.watchlist.byCategory, byPriority },
        facesSeen: s.facesProcessed,
        alerts: s.alerts,
        trueAlerts: s.trueAlerts,
        falseAlerts: s.falseAlerts,
        unresolvedAlerts: s.outcomes.unresolved + s.outcomes.not_stopped,
        engagements: s.outcomes.engaged + s.outcomes.arrested,
        arrests: s.outcomes.arrested,
        threshold: s.threshold,
        thresholdChanges: changes.get(s.deploymentId) ?? 0,
        model: s.model,
        twoPersonVerification: twoPerson.has(s.deploymentId),
        expectedFalseAlerts: calibration
          ? expectedFalseAlerts(calibration, s.threshold, s.watchlist.size, s.facesProcessed)
          : null,
      };
    });
  }
}

const RECORD_COLUMNS = [
  'deployment_id',
  'deployment',
  'location',
  'date',
  'started_at',
  'stopped_at',
  'duration_seconds',
  'status',
  'watchlist_size',
  ...CATEGORIES.map((c) => `watchlist_${c}`),
  ...PRIORITIES.map((p) => `watchlist_${p}`),
  'faces_seen',
  'alerts',
  'true_alerts',
  'false_alerts',
  'unresolved_alerts',
  'engagements',
  'arrests',
  'threshold',
  'threshold_changes',
  'model',
  'two_person_verification',
  'expected_false_alerts_per_1000_faces',
  'expected_false_alerts_for_faces_seen',
  'calibration_dataset',
];

function recordRow(r: PublishedRecord): unknown[] {
  const e = r.expectedFalseAlerts;
  return [
    r.deploymentId,
    r.deployment,
    r.location,
    r.date ?? '',
    r.startedAt ?? '',
    r.stoppedAt ?? '',
    r.durationSeconds ?? '',
    r.status,
    r.watchlist.size,
    ...CATEGORIES.map((c) => r.watchlist.byCategory[c]),
    ...PRIORITIES.map((p) => r.watchlist.byPriority[p]),
    r.facesSeen,
    r.alerts,
    r.trueAlerts,
    r.falseAlerts,
    r.unresolvedAlerts,
    r.engagements,
    r.arrests,
    r.threshold,
    r.thresholdChanges,
    r.model,
    r.twoPersonVerification,
    e ? Number(e.per1000Faces.toPrecision(4)) : '',
    e ? Number(e.forFacesSeen.toPrecision(4)) : '',
    e?.dataset ?? '',
  ];
}

/** CSV of published records: one row per deployment. */
export function publishedRecordCsv(records: PublishedRecord[]): string {
  return `${[RECORD_COLUMNS, ...records.map(recordRow)].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}
