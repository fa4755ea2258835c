import type { Queryable } from '@vigil/core';
import type { UserRole } from './roles.js';

export interface SessionLookup {
  sessionId: string;
  userId: string;
  username: string;
  role: UserRole;
  disabled: boolean;
  expiresAt: Date;
  revokedAt: Date | null;
}

/** The `sessions` table: only SHA-256 hashes of tokens are stored. */
export class SessionRepository {
  constructor(private readonly db: Queryable) {}

  async create(userId: string, tokenHash: string, expiresAt: Date): Promise<string> {
    const { rows } = await this.db.query<{ id: string }>(
      'INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING id',
      [userId, tokenHash, expiresAt.toISOString()],
    );
    return rows[0]!.id;
  }

  async findByTokenHash(tokenHash: string): Promise<SessionLookup | undefined> {
    const { rows } = await this.db.query<{
      id: string;
      user_id: string;
      username: string;
      role: UserRole;
      disabled: boolean;
      expires_at: Date | string;
      revoked_at: Date | string | null;
    }>(
      `SELECT s.id, s.user_id, u.username, u.role, u.disabled, s.expires_at, s.revoked_at
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      sessionId: row.id,
      userId: row.user_id,
      username: row.username,
      role: row.role,
      disabled: row.disabled,
      expiresAt: new Date(row.expires_at),
      revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    };
  }

  async revoke(sessionId: string): Promise<void> {
    await this.db.query('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [
      sessionId,
    ]);
  }

  async revokeAllForUser(userId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL', [
      userId,
    ]);
  }

  /** Revokes every session of the user but `keepSessionId` (the one that changed the password). */
  async revokeOthersOfUser(userId: string, keepSessionId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query(
      'UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL',
      [userId, keepSessionId],
    );
  }

  /** Drops sessions that expired or were revoked more than a day ago. */
  async purgeOld(): Promise<number> {
    const { rowCount } = await this.db.query(
      `DELETE FROM sessions WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'`,
    );
    return rowCount;
  }
}
