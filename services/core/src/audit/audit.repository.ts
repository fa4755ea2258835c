import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../db/database.js';
import type { ChainHead } from './audit-checkpoint.js';

/** What happened, by whom, to what. `details` must hold no image, embedding, password or token. */
export interface AuditEntry {
  actorId?: string | null;
  actorName?: string;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  id: number;
  at: string;
  actorId: string | null;
  actorName: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/**
 * Why verification stopped at a row. `checkpoint_mismatch`: the row a signed checkpoint names is not
 * the row that was signed (rows up to it were rewritten, removed or inserted, hashes recomputed or
 * not); `truncated`: the chain ends before that row (the newest rows were deleted).
 */
export type AuditFailure =
  | 'hash_mismatch'
  | 'chain_broken'
  | 'sequence_gap'
  | 'checkpoint_mismatch'
  | 'truncated';

export interface AuditVerification {
  ok: boolean;
  entries: number;
  firstBad?: { id: number; reason: AuditFailure };
}

/** Where a walk of the chain starts: after this row, whose hash the next row must link to. */
interface WalkStart {
  afterId: number;
  prevHash: string;
  entries: number;
}

/** The hash a chain starts from. */
export const GENESIS_HASH = '0'.repeat(64);
// Serialises appends across processes so each row's prev_hash is the row before it.
const AUDIT_LOCK_ID = 7_114_412;
const VERIFY_PAGE = 1000;

/** JSON with object keys sorted at every depth: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function auditHash(row: Omit<AuditRow, 'id' | 'hash'>): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        at: row.at,
        actorId: row.actorId,
        actorName: row.actorName,
        action: row.action,
        targetType: row.targetType,
        targetId: row.targetId,
        details: row.details,
        prevHash: row.prevHash,
      }),
    )
    .digest('hex');
}

interface DbAuditRow {
  id: number;
  at: Date;
  actor_id: string | null;
  actor_name: string;
  action: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function fromDb(row: DbAuditRow): AuditRow {
  return {
    id: Number(row.id),
    at: new Date(row.at).toISOString(),
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: row.details ?? {},
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * The hash-chained audit trail: every row holds the hash of the one before, so an altered, deleted
 * or reordered row breaks the chain at that row.
 */
export class AuditRepository {
  constructor(private readonly db: Database) {}

  /**
   * Appends one entry. Pass `tx` to make the entry part of the caller's transaction (it is then
   * written if and only if the change it records is).
   */
  async append(entry: AuditEntry, tx?: Queryable): Promise<AuditRow> {
    if (!tx) return this.db.transaction((inner) => this.append(entry, inner));
    await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_ID]);
    const last = await tx.query<{ hash: string }>('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1');
    const row: Omit<AuditRow, 'id' | 'hash'> = {
      at: new Date().toISOString(),
      actorId: entry.actorId ?? null,
      actorName: entry.actorName ?? '',
      action: entry.action,
      targetType: entry.targetType ?? '',
      targetId: entry.targetId ?? '',
      details: JSON.parse(canonicalJson(entry.details ?? {})) as Record<string, unknown>,
      prevHash: last.rows[0]?.hash ?? GENESIS_HASH,
    };
    const hash = auditHash(row);
    const inserted = await tx.query<{ id: number }>(
      `INSERT INTO audit_log (at, actor_id, actor_name, action, target_type, target_id, details, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) RETURNING id`,
      [
        row.at,
        row.actorId,
        row.actorName,
        row.action,
        row.targetType,
        row.targetId,
        canonicalJson(row.details),
        row.prevHash,
        hash,
      ],
    );
    return { ...row, id: Number(inserted.rows[0]?.id), hash };
  }

  /** Newest first, with optional filters. */
  async list(
    filter: {
      action?: string;
      actorId?: string;
      actorName?: string;
      targetType?: string;
      targetId?: string;
      from?: Date;
      to?: Date;
      limit?: number;
      beforeId?: number;
    } = {},
  ): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.action) add('action = ?', filter.action);
    if (filter.actorId) add('actor_id = ?', filter.actorId);
    if (filter.actorName) add('actor_name = ?', filter.actorName);
    if (filter.targetType) add('target_type = ?', filter.targetType);
    if (filter.targetId) add('target_id = ?', filter.targetId);
    if (filter.from) add('at >= ?', filter.from.toISOString());
    if (filter.to) add('at < ?', filter.to.toISOString());
    if (filter.beforeId) add('id < ?', filter.beforeId);
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const { rows } = await this.db.query<DbAuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(fromDb);
  }

  /**
   * The rows about one deployment, oldest first: those targeting it and those naming it in their
   * details (its alerts' outcomes and verifications), at most `limit`.
   */
  async aboutDeployment(deploymentId: string, limit: number): Promise<AuditRow[]> {
    const { rows } = await this.db.query<DbAuditRow>(
      `SELECT * FROM audit_log WHERE target_id = $1 OR details->>'deploymentId' = $1 ORDER BY id LIMIT $2`,
      [deploymentId, limit],
    );
    return rows.map(fromDb);
  }

  /** One row by id, as stored (for naming the row `verify` found altered). */
  async get(id: number): Promise<AuditRow | undefined> {
    const { rows } = await this.db.query<DbAuditRow>('SELECT * FROM audit_log WHERE id = $1', [id]);
    return rows[0] ? fromDb(rows[0]) : undefined;
  }

  /** The newest row and how many rows there are, read in one snapshot; undefined for an empty trail. */
  async head(): Promise<ChainHead | undefined> {
    const { rows } = await this.db.query<{ id: number; hash: string; entries: number }>(
      'SELECT id, hash, (SELECT count(*)::int FROM audit_log) AS entries FROM audit_log ORDER BY id DESC LIMIT 1',
    );
    const row = rows[0];
    return row ? { headId: Number(row.id), headHash: row.hash, entries: Number(row.entries) } : undefined;
  }

  /**
   * Walks the whole chain in id order and names the first row whose hash or link is wrong. With
   * `signed` (a checkpoint's head) it also requires that row, with that hash and that many rows up
   * to it: which catches the newest rows deleted and rows rewritten with every later hash recomputed.
   */
  verify(signed?: ChainHead): Promise<AuditVerification> {
    return this.#walk({ afterId: 0, prevHash: GENESIS_HASH, entries: 0 }, signed);
  }

  /**
   * Checks only what changed since `signed`: its row is still there with its hash, and every row
   * after it links and hashes correctly. Rows before it are covered by its hash (rewriting one
   * changes every later hash or breaks a link, which the full `verify` names).
   */
  async verifySince(signed: ChainHead): Promise<AuditVerification> {
    const { rows } = await this.db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE id = $1', [
      signed.headId,
    ]);
    if (rows[0]?.hash !== signed.headHash) {
      const later = await this.db.query('SELECT 1 FROM audit_log WHERE id > $1 LIMIT 1', [signed.headId]);
      const reason = rows[0] || later.rows.length > 0 ? 'checkpoint_mismatch' : 'truncated';
      return { ok: false, entries: 0, firstBad: { id: signed.headId, reason } };
    }
    return this.#walk({ afterId: signed.headId, prevHash: signed.headHash, entries: signed.entries });
  }

  async #walk(start: WalkStart, signed?: ChainHead): Promise<AuditVerification> {
    let { afterId: prevId, prevHash, entries } = start;
    let signedSeen = signed === undefined;
    for (;;) {
      const { rows } = await this.db.query<DbAuditRow>(
        'SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2',
        [prevId, VERIFY_PAGE],
      );
      if (rows.length === 0) {
        if (!signedSeen && signed)
          return { ok: false, entries, firstBad: { id: signed.headId, reason: 'truncated' } };
        return { ok: true, entries };
      }
      for (const dbRow of rows) {
        const row = fromDb(dbRow);
        if (!signedSeen && signed && row.id > signed.headId)
          return { ok: false, entries, firstBad: { id: signed.headId, reason: 'checkpoint_mismatch' } };
        if (row.prevHash !== prevHash)
          return { ok: false, entries, firstBad: { id: row.id, reason: 'chain_broken' } };
        if (auditHash(row) !== row.hash)
          return { ok: false, entries, firstBad: { id: row.id, reason: 'hash_mismatch' } };
        if (signed && row.id === signed.headId) {
          if (row.hash !== signed.headHash || entries + 1 !== signed.entries)
            return { ok: false, entries, firstBad: { id: row.id, reason: 'checkpoint_mismatch' } };
          signedSeen = true;
        }
        prevHash = row.hash;
        prevId = row.id;
        entries++;
      }
    }
  }
}
