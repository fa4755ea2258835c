import { NotFoundError } from '@vigil/core';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import { DESCRIBED_FIELDS } from './subject-approval.service.js';
import type { SubjectHistoryRepository, SubjectHistoryRow } from './subject-history.repository.js';

/** One field's change in an edit: the field in words, its value before and after. */
export interface FieldChange {
  field: string;
  from: string;
  to: string;
}

/** One thing that happened to a subject, in words. */
export interface SubjectHistoryEntry {
  at: string;
  kind: 'created' | 'edited' | 'photos' | 'approved' | 'deleted' | 'expired' | 'listed' | 'alert' | 'other';
  /** Who did it, by username; null for the system (retention, the matcher). */
  actor: string | null;
  text: string;
  changes?: FieldChange[];
}

export interface SubjectHistory {
  entries: SubjectHistoryEntry[];
  /** Pass as `offset` for the next (older) page; null on the last page. */
  nextOffset: number | null;
  /** The alerts the subject raised (those still kept), by latest outcome, and in words. */
  alerts: { total: number; outcomes: Record<string, number>; text: string };
}

export const DEFAULT_HISTORY_PAGE = 50;

const FIELD_WORDS: Record<string, string> = {
  label: 'label',
  category: 'category',
  priority: 'priority',
  notes: 'notes',
  reviewBy: 'review date',
  reason: 'reason for listing',
  source: 'image source',
  imageTakenOn: 'date the photo was taken',
};

const DESCRIBED: ReadonlySet<string> = new Set(DESCRIBED_FIELDS);

const OUTCOME_WORDS: Record<string, string> = {
  confirmed: 'confirmed',
  false_alert: 'false alert',
  not_stopped: 'not stopped',
  engaged: 'engaged',
  arrested: 'arrested',
  unresolved: 'without an outcome',
};

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  return String(value);
}

function number(details: Record<string, unknown>, key: string): number {
  return typeof details[key] === 'number' ? (details[key] as number) : 0;
}

/**
 * A subject's history in words, newest first: who enrolled it and where, each edit with its from and
 * to, approvals, the deployments whose lists held it, the alerts it raised with their outcomes, and
 * its deletion or expiry. Built from the audit trail and the alert tables; shows names, never ids.
 */
export class SubjectHistoryService {
  readonly #history: SubjectHistoryRepository;

  constructor(repositories: Pick<Repositories, 'subjectHistory'>) {
    this.#history = repositories.subjectHistory;
  }

  async history(subjectId: string, page: { limit: number; offset: number }): Promise<SubjectHistory> {
    if (!isUuid(subjectId) || !(await this.#history.known(subjectId))) throw new NotFoundError('subject');
    const rows = await this.#history.page(subjectId, page.limit + 1, page.offset);
    const shownRows = rows.slice(0, page.limit);
    const watchlists = await this.#history.watchlistNames([
      ...new Set(
        shownRows
          .map((row) => row.details.watchlistId)
          .filter((id): id is string => typeof id === 'string' && isUuid(id)),
      ),
    ]);
    const outcomes = await this.#history.alertOutcomes(subjectId);
    const total = Object.values(outcomes).reduce((sum, n) => sum + n, 0);
    return {
      entries: shownRows.map((row) => describe(row, watchlists)),
      nextOffset: rows.length > page.limit ? page.offset + page.limit : null,
      alerts: { total, outcomes, text: alertSummary(total, outcomes) },
    };
  }
}

function alertSummary(total: number, outcomes: Record<string, number>): string {
  if (total === 0) return 'No alerts kept for this subject.';
  const parts = Object.entries(outcomes)
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, n]) => `${n} ${OUTCOME_WORDS[outcome] ?? outcome.replace(/_/g, ' ')}`);
  return `${count(total, 'alert')}: ${list(parts)}.`;
}

function describe(row: SubjectHistoryRow, watchlists: Map<string, string>): SubjectHistoryEntry {
  const actor = row.actorName || null;
  const by = actor ? ` by ${actor}` : '';
  const d = row.details;
  const watchlist = typeof d.watchlistId === 'string' ? watchlists.get(d.watchlistId) : undefined;
  const on = watchlist ? ` on the watchlist “${watchlist}”` : '';
  switch (row.action) {
    case 'listed':
      return {
        at: row.at,
        kind: 'listed',
        actor: null,
        text: `On the list searched by the deployment “${row.deployment}”`,
      };
    case 'alert': {
      const outcome = row.outcome
        ? `${OUTCOME_WORDS[row.outcome] ?? row.outcome}${by}`
        : 'no outcome recorded yet';
      const camera = row.camera ? ` at camera “${row.camera}”` : '';
      return {
        at: row.at,
        kind: 'alert',
        actor,
        text: `Raised an alert${camera} of the deployment “${row.deployment}”: ${outcome}`,
      };
    }
    case 'subject.create':
      return {
        at: row.at,
        kind: 'created',
        actor,
        text: `Enrolled${by}${on} with ${count(number(d, 'images'), 'photo')} as “${shown(d.label)}”, ${shown(d.category)}, ${shown(d.priority)} priority`,
      };
    case 'subject.provenance': {
      const from = (d.from ?? {}) as Record<string, unknown>;
      const to = (d.to ?? {}) as Record<string, unknown>;
      // In the order a reader expects (the audit stores keys sorted).
      const described = [
        ...Object.keys(FIELD_WORDS).filter((key) => key in to),
        ...Object.keys(to).filter((key) => !(key in FIELD_WORDS)),
      ];
      const changes = described.map((key) => ({
        field: FIELD_WORDS[key] ?? key,
        from: shown(from[key]),
        to: shown(to[key]),
      }));
      const changed = Array.isArray(d.changed) ? (d.changed as string[]) : Object.keys(to);
      // The form sends every field; those with from and to kept the same value when not in `to`.
      const recorded = changed
        .filter((key) => !(key in to) && !DESCRIBED.has(key))
        .map((key) => FIELD_WORDS[key] ?? key);
      const parts = [
        ...changes.map((change) => `${change.field} from “${change.from}” to “${change.to}”`),
        ...(recorded.length > 0 ? [`recorded the ${list(recorded)}`] : []),
      ];
      return {
        at: row.at,
        kind: 'edited',
        actor,
        text: `Changed${by}: ${parts.length > 0 ? list(parts) : 'nothing'}${d.approvalWithdrawn ? '; the approval was withdrawn' : ''}`,
        ...(changes.length > 0 ? { changes } : {}),
      };
    }
    case 'subject.images_add':
      return {
        at: row.at,
        kind: 'photos',
        actor,
        text: `${count(number(d, 'images'), 'photo')} added${by}${d.approvalWithdrawn ? '; the approval was withdrawn' : ''}`,
      };
    case 'subject.image_remove':
      return {
        at: row.at,
        kind: 'photos',
        actor,
        text: `A photo removed${by}, ${count(number(d, 'images'), 'photo')} left${d.approvalWithdrawn ? '; the approval was withdrawn' : ''}`,
      };
    case 'subject.approve':
      return {
        at: row.at,
        kind: 'approved',
        actor,
        text: `Approved${by}${typeof d.reviewBy === 'string' ? `, to be reviewed by ${d.reviewBy}` : ''}`,
      };
    case 'subject.delete':
      return {
        at: row.at,
        kind: 'deleted',
        actor,
        text: `Deleted${by}${on}, with ${count(number(d, 'images'), 'photo')}`,
      };
    case 'retention.subject_expired':
      return {
        at: row.at,
        kind: 'expired',
        actor: null,
        text: `Removed when the entry expired: ${count(number(d, 'referenceImages'), 'photo')} and ${count(number(d, 'embeddings'), 'template')} deleted`,
      };
    default:
      return {
        at: row.at,
        kind: 'other',
        actor,
        text: `${row.action.replace(/[._]/g, ' ')}${by}`,
      };
  }
}
