import { type AuditRepository, NotFoundError, ValidationError } from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import { csvField } from './stats.service.js';
import type { UseLogEntry, UseLogRepository } from './use-log.repository.js';

export interface UseLog {
  deploymentId: string;
  /** VIGIL_USE_LOG_RETENTION_DAYS: entries older than this are deleted by retention. */
  retentionDays: number;
  from: string | null;
  to: string | null;
  entries: UseLogEntry[];
}

/**
 * The log of each use of a deployment (EU AI Act art. 12): start and end, the snapshot checked,
 * threshold changes, each alert's input and who verified it. Exports are audited.
 */
export class UseLogService {
  readonly #log: UseLogRepository;
  readonly #audit: AuditRepository;

  constructor(
    repositories: Pick<Repositories, 'useLog' | 'audit'>,
    private readonly retentionDays: number,
  ) {
    this.#log = repositories.useLog;
    this.#audit = repositories.audit;
  }

  async forDeployment(deploymentId: string, window: { from?: Date; to?: Date } = {}): Promise<UseLog> {
    if (window.from && window.to && window.from >= window.to)
      throw new ValidationError('`from` must be before `to`', 'invalid_time_window');
    if (!isUuid(deploymentId)) throw new NotFoundError('deployment');
    if (!(await this.#log.deploymentExists(deploymentId))) throw new NotFoundError('deployment');
    return {
      deploymentId,
      retentionDays: this.retentionDays,
      from: window.from?.toISOString() ?? null,
      to: window.to?.toISOString() ?? null,
      entries: await this.#log.entries(deploymentId, window),
    };
  }

  /** The log with its export on the audit trail; `actor.id` is null for the command line. */
  async export(
    actor: Pick<AuthUser, 'username'> & { id: string | null },
    deploymentId: string,
    window: { from?: Date; to?: Date },
    format: 'json' | 'csv',
  ) {
    const log = await this.forDeployment(deploymentId, window);
    await this.#audit.append({
      actorId: actor.id,
      actorName: actor.username,
      action: 'use_log.export',
      targetType: 'deployment',
      targetId: deploymentId,
      details: { format, entries: log.entries.length, from: log.from, to: log.to },
    });
    return log;
  }
}

const USE_LOG_COLUMNS = ['id', 'at', 'event', 'alert_id', 'details'];

/** CSV of a use log: one row per entry, the details as JSON. */
export function useLogCsv(log: UseLog): string {
  const rows = log.entries.map((e) => [e.id, e.at, e.event, e.alertId ?? '', JSON.stringify(e.details)]);
  return `${[USE_LOG_COLUMNS, ...rows].map((row) => row.map(csvField).join(',')).join('\r\n')}\r\n`;
}
