import {
  type AuditRepository,
  ConflictError,
  type Database,
  ForbiddenError,
  NotFoundError,
  type Queryable,
  ValidationError,
} from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import { parseDay } from './provenance.js';
import type { Subject, SubjectChanges, SubjectRepository } from './subject.repository.js';

/** What a watchlist manager may record about where an entry comes from, and what it says. */
export type ProvenanceChanges = SubjectChanges;

/**
 * The entry's own fields and its review date: the audit records each one's value before and after,
 * which the subject's history shows.
 */
export const DESCRIBED_FIELDS = ['label', 'category', 'priority', 'notes', 'reviewBy'] as const;

/**
 * An entry's provenance and its approval by a second person. An entry is searched in a snapshot
 * only once approved and before its review date; changing its provenance withdraws the approval.
 */
export class SubjectApprovalService {
  readonly #db: Database;
  readonly #subjects: SubjectRepository;
  readonly #audit: AuditRepository;

  constructor(repositories: Pick<Repositories, 'db' | 'subjects' | 'audit'>) {
    this.#db = repositories.db;
    this.#subjects = repositories.subjects;
    this.#audit = repositories.audit;
  }

  async recordProvenance(
    actor: AuthUser,
    id: string,
    input: ProvenanceChanges,
    now = new Date(),
  ): Promise<Subject> {
    const changes: ProvenanceChanges = {
      ...(input.reason !== undefined ? { reason: input.reason.trim() } : {}),
      ...(input.source !== undefined ? { source: input.source.trim() } : {}),
      ...(input.imageTakenOn !== undefined
        ? { imageTakenOn: parseDay(input.imageTakenOn, 'imageTakenOn', { notAfter: now }) }
        : {}),
      ...(input.reviewBy !== undefined
        ? { reviewBy: parseDay(input.reviewBy, 'reviewBy', { after: now }) ?? undefined }
        : {}),
      ...(input.label !== undefined ? { label: input.label.trim() } : {}),
      ...(input.category !== undefined ? { category: input.category } : {}),
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.notes !== undefined ? { notes: input.notes.trim() } : {}),
    };
    if (changes.label === '') throw new ValidationError('a label may not be empty', 'invalid_label');
    return this.#change(actor, id, 'subject.provenance', async (tx, subject) => {
      await this.#subjects.updateProvenance(id, changes, tx);
      // From and to for the entry's own fields: what oversight and the subject's history read.
      const described = DESCRIBED_FIELDS.filter(
        (key) => changes[key] !== undefined && changes[key] !== subject[key],
      );
      return {
        changed: Object.keys(changes),
        ...(described.length > 0
          ? {
              from: Object.fromEntries(described.map((key) => [key, subject[key]])),
              to: Object.fromEntries(described.map((key) => [key, changes[key]])),
            }
          : {}),
        approvalWithdrawn: subject.approvedBy !== null,
      };
    });
  }

  /** Approves an entry: someone other than who added it, with the why and the image's source recorded. */
  async approve(actor: AuthUser, id: string, today = new Date()): Promise<Subject> {
    return this.#change(actor, id, 'subject.approve', async (tx, subject) => {
      if (subject.addedBy === actor.id)
        throw new ForbiddenError('the person who added an entry cannot approve it', 'approver_is_adder');
      const missing = [
        ...(subject.reason === '' ? ['reason'] : []),
        ...(subject.source === '' ? ['source'] : []),
      ];
      if (missing.length > 0)
        throw new ConflictError(`record the entry's ${missing.join(' and ')} first`, 'provenance_incomplete');
      if (subject.reviewBy === null || subject.reviewBy <= today.toISOString().slice(0, 10))
        throw new ConflictError('set a review date in the future first', 'review_overdue');
      await this.#subjects.approve(id, actor.id, tx);
      return { reviewBy: subject.reviewBy };
    });
  }

  async #change(
    actor: AuthUser,
    id: string,
    action: string,
    work: (tx: Queryable, subject: Subject) => Promise<Record<string, unknown>>,
  ): Promise<Subject> {
    if (!isUuid(id)) throw new NotFoundError('subject');
    return this.#db.transaction(async (tx) => {
      await this.#subjects.lock(id, tx);
      const subject = await this.#subjects.find(id, tx);
      if (!subject) throw new NotFoundError('subject');
      const details = await work(tx, subject);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action,
          targetType: 'subject',
          targetId: id,
          details: { watchlistId: subject.watchlistId, ...details },
        },
        tx,
      );
      return (await this.#subjects.find(id, tx))!;
    });
  }
}
