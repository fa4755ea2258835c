import { type AuditRepository, type Database, NotFoundError } from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import { WatchlistInUseError } from '../errors.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import type { Watchlist, WatchlistRepository } from './watchlist.repository.js';

/** Creating, reading, renaming and deleting watchlists; every change audited. */
export class WatchlistService {
  readonly #watchlists: WatchlistRepository;
  readonly #audit: AuditRepository;
  readonly #db: Database;

  constructor(repositories: Pick<Repositories, 'db' | 'watchlists' | 'audit'>) {
    this.#db = repositories.db;
    this.#watchlists = repositories.watchlists;
    this.#audit = repositories.audit;
  }

  create(actor: AuthUser, input: { name: string; description?: string }): Promise<Watchlist> {
    return this.#db.transaction(async (tx) => {
      const watchlist = await this.#watchlists.create(
        { name: input.name, description: input.description ?? '', createdBy: actor.id },
        tx,
      );
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'watchlist.create',
          targetType: 'watchlist',
          targetId: watchlist.id,
          details: { name: watchlist.name },
        },
        tx,
      );
      return watchlist;
    });
  }

  list(): Promise<Watchlist[]> {
    return this.#watchlists.list();
  }

  async get(id: string): Promise<Watchlist> {
    const watchlist = isUuid(id) ? await this.#watchlists.find(id) : undefined;
    if (!watchlist) throw new NotFoundError('watchlist');
    return watchlist;
  }

  async update(
    actor: AuthUser,
    id: string,
    changes: { name?: string; description?: string },
  ): Promise<Watchlist> {
    await this.get(id);
    return this.#db.transaction(async (tx) => {
      if (!(await this.#watchlists.update(id, changes, tx))) throw new NotFoundError('watchlist');
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'watchlist.update',
          targetType: 'watchlist',
          targetId: id,
          details: { ...changes },
        },
        tx,
      );
      return (await this.#watchlists.find(id, tx))!;
    });
  }

  /** Deletes a watchlist with its subjects, images and embeddings; refused while a running deployment uses it. */
  async delete(actor: AuthUser, id: string): Promise<void> {
    const watchlist = await this.get(id);
    await this.#db.transaction(async (tx) => {
      if (await this.#watchlists.inRunningDeployment(id, tx)) throw new WatchlistInUseError();
      if (!(await this.#watchlists.delete(id, tx))) throw new NotFoundError('watchlist');
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'watchlist.delete',
          targetType: 'watchlist',
          targetId: id,
          details: { name: watchlist.name, subjects: watchlist.subjectCount },
        },
        tx,
      );
    });
  }
}
