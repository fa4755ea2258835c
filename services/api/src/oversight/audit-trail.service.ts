import {
  AuditRepository,
  type AuditRow,
  type AuditVerification,
  type Database,
  ValidationError,
} from '@vigil/core';
import { isUuid } from '../uuid.js';

/** Filters of `GET /audit`; `actor` is a user id or a username. */
export interface AuditQuery {
  action?: string;
  actor?: string;
  targetType?: string;
  target?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  beforeId?: number;
}

export interface AuditPage {
  entries: AuditRow[];
  /** Pass as `beforeId` for the next (older) page; null on the last page. */
  nextBeforeId: number | null;
}

export const DEFAULT_AUDIT_PAGE = 100;

/** Reading and checking the hash-chained audit trail. */
export class AuditTrailService {
  readonly #audit: AuditRepository;

  constructor(db: Database) {
    this.#audit = new AuditRepository(db);
  }

  /** Newest first, one page at a time. */
  async list(query: AuditQuery): Promise<AuditPage> {
    if (query.from && query.to && query.from >= query.to)
      throw new ValidationError('`from` must be before `to`', 'invalid_time_window');
    const limit = query.limit ?? DEFAULT_AUDIT_PAGE;
    const entries = await this.#audit.list({
      action: query.action,
      ...(query.actor ? (isUuid(query.actor) ? { actorId: query.actor } : { actorName: query.actor }) : {}),
      targetType: query.targetType,
      targetId: query.target,
      from: query.from,
      to: query.to,
      beforeId: query.beforeId,
      limit: limit + 1,
    });
    const page = entries.slice(0, limit);
    return { entries: page, nextBeforeId: entries.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  /** Walks the chain; names the first row that was altered, or the row after a deleted one. */
  verify(): Promise<AuditVerification> {
    return this.#audit.verify();
  }

  /** One stored row, to show what `verify` named. */
  get(id: number): Promise<AuditRow | undefined> {
    return this.#audit.get(id);
  }
}
