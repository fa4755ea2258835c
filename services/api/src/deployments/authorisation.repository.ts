import type { AuthorisationStatus, ExclusionReason } from '@vigil/contract';
import type { Queryable } from '@vigil/core';
import {
  SUBJECT_CATEGORIES,
  SUBJECT_PRIORITIES,
  type SubjectCategory,
  type SubjectPriority,
} from '../subjects/subject.repository.js';

/** A watchlist's make-up without names: what the authoriser approves and the deployment record keeps. */
export interface WatchlistComposition {
  subjects: number;
  byCategory: Record<SubjectCategory, number>;
  byPriority: Record<SubjectPriority, number>;
  excluded: Record<ExclusionReason, number>;
}

/** One request for authorisation, with the terms as requested and the decision. */
export interface Authorisation {
  id: string;
  deploymentId: string;
  deploymentName: string;
  status: AuthorisationStatus;
  urgent: boolean;
  requestedBy: string | null;
  requestedByName: string | null;
  requestedAt: string;
  decisionDueAt: string | null;
  purpose: string;
  legalBasis: string;
  location: string;
  startsAt: string | null;
  endsAt: string | null;
  threshold: number;
  watchlistIds: string[];
  composition: WatchlistComposition | Record<string, never>;
  decidedBy: string | null;
  decidedByName: string | null;
  decidedAt: string | null;
  rationale: string;
}

/** A deployment's entry, classified for its snapshot. */
export interface ClassifiedSubject {
  id: string;
  category: SubjectCategory;
  priority: SubjectPriority;
  excluded: ExclusionReason | null;
}

const iso = (value: Date | string | null): string | null => (value ? new Date(value).toISOString() : null);

interface AuthorisationRow {
  id: string;
  deployment_id: string;
  deployment_name: string;
  status: AuthorisationStatus;
  urgent: boolean;
  requested_by: string | null;
  requested_by_name: string | null;
  requested_at: Date | string;
  decision_due_at: Date | string | null;
  purpose: string;
  legal_basis: string;
  location: string;
  starts_at: Date | string | null;
  ends_at: Date | string | null;
  threshold: number | string;
  watchlist_ids: string[] | null;
  composition: WatchlistComposition | string;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_at: Date | string | null;
  rationale: string;
}

function fromRow(row: AuthorisationRow): Authorisation {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    deploymentName: row.deployment_name,
    status: row.status,
    urgent: row.urgent,
    requestedBy: row.requested_by,
    requestedByName: row.requested_by_name,
    requestedAt: new Date(row.requested_at).toISOString(),
    decisionDueAt: iso(row.decision_due_at),
    purpose: row.purpose,
    legalBasis: row.legal_basis,
    location: row.location,
    startsAt: iso(row.starts_at),
    endsAt: iso(row.ends_at),
    threshold: Math.round(Number(row.threshold) * 1e6) / 1e6,
    watchlistIds: [...(row.watchlist_ids ?? [])].sort(),
    composition: typeof row.composition === 'string' ? JSON.parse(row.composition) : row.composition,
    decidedBy: row.decided_by,
    decidedByName: row.decided_by_name,
    decidedAt: iso(row.decided_at),
    rationale: row.rationale,
  };
}

const SELECT = `SELECT a.*, d.name AS deployment_name, r.username AS requested_by_name, x.username AS decided_by_name
  FROM deployment_authorisations a
  JOIN deployments d ON d.id = a.deployment_id
  LEFT JOIN users r ON r.id = a.requested_by
  LEFT JOIN users x ON x.id = a.decided_by`;

/** Counts of `subjects` by category and priority, and of those left out by reason. */
export function composition(subjects: ClassifiedSubject[]): WatchlistComposition {
  const result: WatchlistComposition = {
    subjects: 0,
    byCategory: Object.fromEntries(SUBJECT_CATEGORIES.map((c) => [c, 0])) as Record<SubjectCategory, number>,
    byPriority: Object.fromEntries(SUBJECT_PRIORITIES.map((p) => [p, 0])) as Record<SubjectPriority, number>,
    excluded: { notApproved: 0, reviewOverdue: 0, notAuthorised: 0 },
  };
  for (const subject of subjects) {
    if (subject.excluded) {
      result.excluded[subject.excluded] += 1;
      continue;
    }
    result.subjects += 1;
    result.byCategory[subject.category] += 1;
    result.byPriority[subject.priority] += 1;
  }
  return result;
}

/** `deployment_authorisations`, `authorisation_subjects`, and the deletions a refusal makes. */
export class AuthorisationRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * The entries of the deployment's watchlists that have an embedding of `model` and have not
   * expired, each with why it is left out of a snapshot (null: it is in): no approval, past its
   * review date, or (when `authorised` is given) not among the entries the authorisation covers.
   */
  async classify(
    deploymentId: string,
    model: string,
    authorised?: string[],
    tx = this.db,
  ): Promise<ClassifiedSubject[]> {
    const { rows } = await tx.query<{
      id: string;
      category: SubjectCategory;
      priority: SubjectPriority;
      approved: boolean;
      current: boolean;
      authorised: boolean;
    }>(
      `SELECT DISTINCT s.id, s.category, s.priority, s.approved_at IS NOT NULL AS approved,
              coalesce(s.review_by >= (now() AT TIME ZONE 'UTC')::date, false) AS current,
              ($3::uuid[] IS NULL OR s.id = ANY($3::uuid[])) AS authorised
         FROM deployment_watchlists dw JOIN subjects s ON s.watchlist_id = dw.watchlist_id
        WHERE dw.deployment_id = $1 AND (s.expires_at IS NULL OR s.expires_at > now())
          AND EXISTS (SELECT 1 FROM embeddings e WHERE e.subject_id = s.id AND e.model = $2)
        ORDER BY s.id`,
      [deploymentId, model, authorised ?? null],
    );
    return rows.map((row) => ({
      id: row.id,
      category: row.category,
      priority: row.priority,
      excluded: !row.approved
        ? 'notApproved'
        : !row.current
          ? 'reviewOverdue'
          : !row.authorised
            ? 'notAuthorised'
            : null,
    }));
  }

  async insert(
    request: {
      deploymentId: string;
      urgent: boolean;
      requestedBy: string;
      decisionDueHours: number | null;
      purpose: string;
      legalBasis: string;
      location: string;
      startsAt: string;
      endsAt: string;
      threshold: number;
      watchlistIds: string[];
      composition: WatchlistComposition;
      subjectIds: string[];
    },
    tx = this.db,
  ): Promise<string> {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO deployment_authorisations (deployment_id, urgent, requested_by, decision_due_at, purpose,
         legal_basis, location, starts_at, ends_at, threshold, watchlist_ids, composition)
       VALUES ($1, $2, $3, CASE WHEN $4::double precision IS NULL THEN NULL
                                ELSE now() + make_interval(secs => $4::double precision) END,
               $5, $6, $7, $8, $9, $10, $11::uuid[], $12::jsonb)
       RETURNING id`,
      [
        request.deploymentId,
        request.urgent,
        request.requestedBy,
        request.decisionDueHours === null ? null : request.decisionDueHours * 3600,
        request.purpose,
        request.legalBasis,
        request.location,
        request.startsAt,
        request.endsAt,
        request.threshold,
        request.watchlistIds,
        JSON.stringify(request.composition),
      ],
    );
    const id = rows[0]!.id;
    if (request.subjectIds.length > 0)
      await tx.query(
        `INSERT INTO authorisation_subjects (authorisation_id, subject_id) SELECT $1, unnest($2::uuid[])`,
        [id, request.subjectIds],
      );
    return id;
  }

  async find(id: string, tx = this.db, options: { lock?: boolean } = {}): Promise<Authorisation | undefined> {
    if (options.lock)
      await tx.query('SELECT id FROM deployment_authorisations WHERE id = $1 FOR UPDATE', [id]);
    const { rows } = await tx.query<AuthorisationRow>(`${SELECT} WHERE a.id = $1`, [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** The deployment's newest request, which alone can let it start. */
  async latest(deploymentId: string, tx = this.db): Promise<Authorisation | undefined> {
    const { rows } = await tx.query<AuthorisationRow>(
      `${SELECT} WHERE a.deployment_id = $1 ORDER BY a.requested_at DESC, a.id DESC LIMIT 1`,
      [deploymentId],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Requests newest first: one deployment's history, or every deployment's with `status`. */
  async list(filter: { deploymentId?: string; status?: AuthorisationStatus }): Promise<Authorisation[]> {
    const { rows } = await this.db.query<AuthorisationRow>(
      `${SELECT} WHERE ($1::uuid IS NULL OR a.deployment_id = $1) AND ($2::text IS NULL OR a.status = $2)
       ORDER BY a.requested_at DESC, a.id DESC LIMIT 500`,
      [filter.deploymentId ?? null, filter.status ?? null],
    );
    return rows.map(fromRow);
  }

  async subjectIds(authorisationId: string, tx = this.db): Promise<string[]> {
    const { rows } = await tx.query<{ subject_id: string }>(
      'SELECT subject_id FROM authorisation_subjects WHERE authorisation_id = $1',
      [authorisationId],
    );
    return rows.map((row) => row.subject_id);
  }

  async decide(
    id: string,
    decision: {
      status: 'granted' | 'refused' | 'lapsed' | 'withdrawn';
      decidedBy: string | null;
      rationale: string;
    },
    tx = this.db,
  ): Promise<void> {
    await tx.query(
      `UPDATE deployment_authorisations SET status = $2, decided_by = $3, decided_at = now(), rationale = $4
       WHERE id = $1`,
      [id, decision.status, decision.decidedBy, decision.rationale],
    );
  }

  /**
   * Withdraws the deployment's newest request when it is pending or granted: its terms (place,
   * window, purpose, legal basis, threshold, watchlists) have just changed. Returns its id, if any.
   */
  async withdrawOpen(deploymentId: string, tx = this.db): Promise<string | undefined> {
    const latest = await this.latest(deploymentId, tx);
    if (!latest || (latest.status !== 'pending' && latest.status !== 'granted')) return undefined;
    await this.decide(
      latest.id,
      { status: 'withdrawn', decidedBy: null, rationale: 'the terms changed after the request' },
      tx,
    );
    return latest.id;
  }

  /** Pending urgent requests whose decision deadline has passed. */
  async overdue(): Promise<{ id: string; deploymentId: string }[]> {
    const { rows } = await this.db.query<{ id: string; deployment_id: string }>(
      `SELECT id, deployment_id FROM deployment_authorisations
        WHERE status = 'pending' AND decision_due_at IS NOT NULL AND decision_due_at <= now() ORDER BY id`,
    );
    return rows.map((row) => ({ id: row.id, deploymentId: row.deployment_id }));
  }

  /** Running deployments whose authorised window has ended. */
  async pastWindow(): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM deployments WHERE status = 'running' AND ends_at IS NOT NULL AND ends_at <= now() ORDER BY id`,
    );
    return rows.map((row) => row.id);
  }

  /**
   * Deletes what a deployment produced and searched: its snapshot, its alerts (their crops,
   * adjudications and dispatches cascade) and their archived counts. The non-biometric record of who
   * was on the list and the faces-processed counters stay.
   */
  async purge(
    deploymentId: string,
    tx = this.db,
  ): Promise<{ entries: number; alerts: number; crops: number }> {
    const crops = await tx.query<{ n: number | string }>(
      'SELECT count(encrypted_probe) AS n FROM alerts WHERE deployment_id = $1',
      [deploymentId],
    );
    const entries = await tx.query('DELETE FROM snapshot_entries WHERE deployment_id = $1', [deploymentId]);
    const alerts = await tx.query('DELETE FROM alerts WHERE deployment_id = $1', [deploymentId]);
    await tx.query('DELETE FROM alert_outcome_archive WHERE deployment_id = $1', [deploymentId]);
    await tx.query(
      `UPDATE deployments SET purged_at = now(), snapshot_destroyed_at = now(), snapshot_destroy_after = now()
       WHERE id = $1`,
      [deploymentId],
    );
    return { entries: entries.rowCount, alerts: alerts.rowCount, crops: Number(crops.rows[0]?.n ?? 0) };
  }

  /**
   * Alerts a matcher stored after its deployment's data was deleted (its cached status said running
   * for a moment longer): deleted on the next check. Returns each deleted alert's deployment.
   */
  async deleteLateAlerts(): Promise<string[]> {
    const { rows } = await this.db.query<{ deployment_id: string }>(
      `DELETE FROM alerts WHERE deployment_id IN (SELECT id FROM deployments WHERE purged_at IS NOT NULL)
       RETURNING deployment_id`,
    );
    return rows.map((row) => row.deployment_id);
  }
}
