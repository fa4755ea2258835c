import type { AuditRepository, Bus, Database, Logger } from '@vigil/core';
import { AlertFeed } from '../realtime/alert-feed.js';
import type { Repositories } from '../repositories.js';
import {
  type DeletedAlerts,
  type DeletedSnapshot,
  type DeletedSubject,
  RETENTION_TABLES,
  type RetentionRepository,
  type RetentionTable,
} from './retention.repository.js';
import type { UseLogRepository } from './use-log.repository.js';

export interface RetentionPolicy {
  /** Hours a stopped deployment's watchlist snapshot is kept (VIGIL_SNAPSHOT_GRACE_HOURS). */
  snapshotGraceHours: number;
  /** Days alerts and their crops are kept (VIGIL_ALERT_RETENTION_DAYS). */
  alertRetentionDays: number;
  /** Days the log of each use is kept (VIGIL_USE_LOG_RETENTION_DAYS); 183 when absent. */
  useLogRetentionDays?: number;
}

/** About six months: the use log's default period (VIGIL_USE_LOG_RETENTION_DAYS). */
export const DEFAULT_USE_LOG_RETENTION_DAYS = 183;

/** What one run deleted. `skipped` when another process was running retention at the time. */
export interface RetentionReport {
  ranAt: string;
  skipped: boolean;
  alertCutoff: string;
  snapshots: DeletedSnapshot[];
  alerts: DeletedAlerts[];
  subjects: DeletedSubject[];
  /** Use log entries older than the use log's period, per deployment. */
  useLog: { deploymentId: string; entries: number }[];
  /** Tables compacted with VACUUM FULL afterwards. */
  compacted: RetentionTable[];
  /** Tables that lost rows but this database role may not compact (not their owner). */
  notCompacted: RetentionTable[];
}

/** Who a retention run is recorded as on the audit trail. */
export interface RetentionActor {
  id: string | null;
  username: string;
}

const SYSTEM_ACTOR: RetentionActor = { id: null, username: 'system:retention' };
const DAY_MS = 86_400_000;

/**
 * Deletes what the retention rules say is due: destroyed snapshots of stopped deployments, alerts
 * past their retention period (with crops, adjudications and dispatches), subjects past their
 * expiry (with images and embeddings). One transaction, one runner at a time (advisory lock),
 * every deletion audited with its counts; `deployment_subject_log` is kept.
 */
export class RetentionService {
  readonly #db: Database;
  readonly #retention: RetentionRepository;
  readonly #useLog: UseLogRepository;
  readonly #audit: AuditRepository;
  readonly #alertStream: AlertFeed | undefined;

  constructor(
    repositories: Pick<Repositories, 'db' | 'retention' | 'useLog' | 'audit'>,
    private readonly policy: RetentionPolicy,
    private readonly now: () => Date = () => new Date(),
    /** The bus whose alert stream is erased along with the rows (the API's and scheduler's). */
    bus?: Bus,
  ) {
    this.#db = repositories.db;
    this.#retention = repositories.retention;
    this.#useLog = repositories.useLog;
    this.#audit = repositories.audit;
    this.#alertStream = bus ? new AlertFeed(bus) : undefined;
  }

  /**
   * One run. `compactAll` compacts every table retention deletes from even if this run deleted
   * nothing (for a role that owns the tables, after runs by one that does not).
   */
  async run(
    actor: RetentionActor = SYSTEM_ACTOR,
    options: { compactAll?: boolean } = {},
  ): Promise<RetentionReport> {
    const now = this.now();
    const cutoff = new Date(now.getTime() - this.policy.alertRetentionDays * DAY_MS);
    const report: RetentionReport = {
      ranAt: now.toISOString(),
      skipped: false,
      alertCutoff: cutoff.toISOString(),
      snapshots: [],
      alerts: [],
      subjects: [],
      useLog: [],
      compacted: [],
      notCompacted: [],
    };
    const audited = { actorId: actor.id, actorName: actor.username };
    await this.#db.transaction(async (tx) => {
      if (!(await this.#retention.tryLock(tx))) {
        report.skipped = true;
        return;
      }
      report.snapshots = await this.#retention.destroySnapshots(tx, now, this.policy.snapshotGraceHours);
      for (const s of report.snapshots)
        await this.#audit.append(
          {
            ...audited,
            action: 'retention.snapshot_destroyed',
            targetType: 'deployment',
            targetId: s.deploymentId,
            details: { snapshotEntries: s.entries, graceHours: this.policy.snapshotGraceHours },
          },
          tx,
        );
      report.alerts = await this.#retention.deleteAlerts(tx, cutoff);
      for (const a of report.alerts)
        await this.#audit.append(
          {
            ...audited,
            action: 'retention.alerts_deleted',
            targetType: 'deployment',
            targetId: a.deploymentId,
            details: {
              alerts: a.alerts,
              crops: a.crops,
              adjudications: a.adjudications,
              dispatches: a.dispatches,
              capturedBefore: cutoff.toISOString(),
              retentionDays: this.policy.alertRetentionDays,
            },
          },
          tx,
        );
      report.subjects = await this.#retention.deleteExpiredSubjects(tx, now);
      for (const s of report.subjects)
        await this.#audit.append(
          {
            ...audited,
            action: 'retention.subject_expired',
            targetType: 'subject',
            targetId: s.subjectId,
            details: {
              watchlistId: s.watchlistId,
              referenceImages: s.referenceImages,
              embeddings: s.embeddings,
              snapshotEntries: s.snapshotEntries,
            },
          },
          tx,
        );
      const useLogDays = this.policy.useLogRetentionDays ?? DEFAULT_USE_LOG_RETENTION_DAYS;
      report.useLog = await this.#useLog.deleteBefore(new Date(now.getTime() - useLogDays * DAY_MS), tx);
      for (const u of report.useLog)
        await this.#audit.append(
          {
            ...audited,
            action: 'retention.use_log_deleted',
            targetType: 'deployment',
            targetId: u.deploymentId,
            details: { entries: u.entries, retentionDays: useLogDays },
          },
          tx,
        );
    });
    if (report.skipped) return report;
    await this.#eraseStreamedAlerts(cutoff, report);
    const tables = new Set<RetentionTable>();
    if (report.snapshots.some((s) => s.entries > 0) || report.subjects.some((s) => s.snapshotEntries > 0))
      tables.add('snapshot_entries');
    if (report.alerts.length > 0) {
      tables.add('alerts');
      if (report.alerts.some((a) => a.adjudications > 0)) tables.add('adjudications');
      if (report.alerts.some((a) => a.dispatches > 0)) tables.add('alert_dispatches');
    }
    if (report.subjects.length > 0) tables.add('subjects').add('reference_images').add('embeddings');
    if (options.compactAll) for (const table of RETENTION_TABLES) tables.add(table);
    const { compacted, notCompacted } = await this.#retention.compact(tables);
    report.compacted = compacted;
    report.notCompacted = notCompacted;
    return report;
  }

  /**
   * The alert stream holds label, subject, camera and time: what the run deleted from the database
   * goes from the stream too (alerts past the cutoff, every alert of an expired subject).
   */
  async #eraseStreamedAlerts(cutoff: Date, report: RetentionReport): Promise<void> {
    if (!this.#alertStream) return;
    const expired = new Set(report.subjects.map((s) => s.subjectId));
    const cutoffMs = cutoff.getTime();
    await this.#alertStream.eraseAlerts(
      (alert, storedAtMs) =>
        alert.capturedAtMs < cutoffMs || storedAtMs < cutoffMs || expired.has(alert.subjectId),
    );
  }
}

/** Total rows a run deleted, for a log line. */
export function retentionCounts(report: RetentionReport): Record<string, number> {
  return {
    snapshots: report.snapshots.length,
    snapshotEntries: report.snapshots.reduce((sum, s) => sum + s.entries, 0),
    alerts: report.alerts.reduce((sum, a) => sum + a.alerts, 0),
    subjects: report.subjects.length,
  };
}

export interface RetentionSchedule {
  stop(): Promise<void>;
}

/**
 * Runs retention every `intervalMs` (and once shortly after start) until stopped. Several processes
 * may run the schedule: the advisory lock lets one of them work and the others skip.
 */
export function startRetentionSchedule(options: {
  service: RetentionService;
  intervalMs: number;
  logger: Logger;
  /** Delay before the first run, so a starting process is not slowed by it. */
  firstRunMs?: number;
}): RetentionSchedule {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = options.service
      .run()
      .then((report) => {
        if (!report.skipped && (report.compacted.length > 0 || report.notCompacted.length > 0))
          options.logger.info({ retention: retentionCounts(report) }, 'retention deleted expired data');
        if (report.notCompacted.length > 0)
          options.logger.warn(
            { tables: report.notCompacted },
            "deleted rows stay in these tables' files until compacted: run `vigil retention run --compact` as the table owner",
          );
      })
      .catch((error: unknown) => options.logger.error({ err: error }, 'retention run failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(tick, options.firstRunMs ?? 30_000);
  const timer = setInterval(tick, options.intervalMs);
  first.unref();
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}

/** The retention periods in the configuration. */
export function retentionPolicy(config: {
  VIGIL_SNAPSHOT_GRACE_HOURS: number;
  VIGIL_ALERT_RETENTION_DAYS: number;
  VIGIL_USE_LOG_RETENTION_DAYS?: number;
}): RetentionPolicy {
  return {
    snapshotGraceHours: config.VIGIL_SNAPSHOT_GRACE_HOURS,
    alertRetentionDays: config.VIGIL_ALERT_RETENTION_DAYS,
    useLogRetentionDays: config.VIGIL_USE_LOG_RETENTION_DAYS,
  };
}
