import { DEFAULT_AUDIT_PAGE } from '@vigil/contract';
import {
  type AuditCheckpoint,
  type AuditCheckpointRepository,
  type AuditCheckpointSigner,
  type AuditFailure,
  type AuditRepository,
  type AuditRow,
  type Logger,
  ValidationError,
} from '@vigil/core';
import type { Repositories } from '../repositories.js';
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

/** Signs chain heads with the audit key and keeps the newest signed head outside the database. */
export interface AuditCheckpointing {
  signer: AuditCheckpointSigner;
  store: AuditCheckpointRepository;
  /** Where each new checkpoint is logged (a copy off the machine where logs are shipped). */
  logger?: Logger;
}

/** Why verification failed: a row (see AuditFailure), or a checkpoint this server's key did not sign. */
export type AuditTrailFailure = AuditFailure | 'checkpoint_invalid';

export interface AuditTrailVerification {
  ok: boolean;
  /** Rows checked before the first bad one (all when ok). */
  entries: number;
  firstBad?: { id: number; reason: AuditTrailFailure };
  /** The signed checkpoint the chain was held to; absent when none had been taken. */
  checkpoint?: AuditCheckpoint;
}

/**
 * Reading and checking the hash-chained audit trail. With `checkpointing`, a verified chain's head is
 * signed and stored outside the database, and every later verify holds the chain to it.
 */
export class AuditTrailService {
  readonly #audit: AuditRepository;
  readonly #checkpointing: AuditCheckpointing | undefined;

  constructor(repositories: Pick<Repositories, 'audit'>, checkpointing?: AuditCheckpointing) {
    this.#audit = repositories.audit;
    this.#checkpointing = checkpointing;
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

  /**
   * Walks the chain from its first row and holds it to the stored signed checkpoint: names the first
   * altered row, the row after a deleted one, or the checkpoint's row when the newest rows were
   * deleted or the chain was rewritten with its hashes recomputed. An intact chain's head is then
   * signed as the next checkpoint.
   */
  async verify(): Promise<AuditTrailVerification> {
    const stored = this.#storedCheckpoint();
    if (stored === 'invalid')
      return { ok: false, entries: 0, firstBad: { id: 0, reason: 'checkpoint_invalid' } };
    const result = await this.#audit.verify(stored);
    if (result.ok) await this.checkpoint();
    return stored ? { ...result, checkpoint: stored } : result;
  }

  /**
   * Signs the chain's current head, after checking that the rows since the stored checkpoint extend
   * it; keeps the stored one when nothing changed, and signs nothing when the chain no longer holds
   * it (that is logged: the evidence stays for `verify`). Undefined without checkpointing, for an
   * empty trail, or when refused.
   */
  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    const checkpointing = this.#checkpointing;
    if (!checkpointing) return undefined;
    const stored = this.#storedCheckpoint();
    if (stored === 'invalid') {
      checkpointing.logger?.error(
        { file: checkpointing.store.file },
        'the audit checkpoint was not signed with this audit key: not signing a new one',
      );
      return undefined;
    }
    const head = await this.#audit.head();
    if (stored && head?.headId === stored.headId && head.headHash === stored.headHash) return stored;
    const check = stored ? await this.#audit.verifySince(stored) : await this.#audit.verify();
    if (!check.ok || !head) {
      if (!check.ok)
        checkpointing.logger?.error(
          { firstBad: check.firstBad },
          'the audit trail does not extend its signed checkpoint: not signing a new one',
        );
      return undefined;
    }
    const next = checkpointing.signer.sign(head);
    checkpointing.store.write(next);
    checkpointing.logger?.info({ auditCheckpoint: next }, 'audit checkpoint signed');
    return next;
  }

  #storedCheckpoint(): AuditCheckpoint | 'invalid' | undefined {
    if (!this.#checkpointing) return undefined;
    const stored = this.#checkpointing.store.read();
    if (stored === 'malformed' || (stored && !this.#checkpointing.signer.isGenuine(stored))) return 'invalid';
    return stored;
  }

  /** One stored row, to show what `verify` named. */
  get(id: number): Promise<AuditRow | undefined> {
    return this.#audit.get(id);
  }
}

/** Signs the audit chain's head every `intervalMs`, so rows deleted after that show in `verify`. */
export function startAuditCheckpoints(options: {
  auditTrail: AuditTrailService;
  intervalMs: number;
  logger: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const tick = () => {
    running ??= options.auditTrail
      .checkpoint()
      .catch((error: unknown) => options.logger.error({ err: error }, 'audit checkpoint failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await tick();
    },
  };
}
