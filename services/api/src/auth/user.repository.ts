import type { Queryable } from '@vigil/core';
import type { AuthUser, UserRole } from './roles.js';

export interface UserRecord extends AuthUser {
  passwordHash: string;
  disabled: boolean;
  failedLogins: number;
  lockedUntil: Date | null;
  createdAt: string;
}

interface UserRow {
  id: string;
  username: string;
  role: UserRole;
  password_hash: string;
  disabled: boolean;
  failed_logins: number;
  locked_until: Date | string | null;
  created_at: Date | string;
}

function fromRow(row: UserRow): UserRecord {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    passwordHash: row.password_hash,
    disabled: row.disabled,
    failedLogins: Number(row.failed_logins),
    lockedUntil: row.locked_until ? new Date(row.locked_until) : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** The `users` table. */
export class UserRepository {
  constructor(private readonly db: Queryable) {}

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    const { rows } = await this.db.query<UserRow>('SELECT * FROM users ORDER BY username');
    return rows.map(fromRow);
  }

  /** Inserts a user; returns undefined when the username is taken. */
  async create(
    user: { username: string; passwordHash: string; role: UserRole },
    tx: Queryable = this.db,
  ): Promise<UserRecord | undefined> {
    const { rows } = await tx.query<UserRow>(
      `INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
       ON CONFLICT (username) DO NOTHING RETURNING *`,
      [user.username, user.passwordHash, user.role],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /**
   * Counts a failed login (users.failed_logins, reset by a success or a new password). The count is
   * a record for admins; waits come from LoginThrottle (the login_throttle table) and locked_until is no longer set.
   */
  async recordFailure(id: string): Promise<void> {
    await this.db.query('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1', [id]);
  }

  async resetFailures(id: string): Promise<void> {
    await this.db.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [id]);
  }

  async update(
    id: string,
    changes: { role?: UserRole; disabled?: boolean; passwordHash?: string },
    tx: Queryable = this.db,
  ): Promise<UserRecord | undefined> {
    const { rows } = await tx.query<UserRow>(
      `UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled),
         password_hash = COALESCE($4, password_hash),
         failed_logins = CASE WHEN $4::text IS NULL THEN failed_logins ELSE 0 END,
         locked_until = CASE WHEN $4::text IS NULL THEN locked_until ELSE NULL END
       WHERE id = $1 RETURNING *`,
      [id, changes.role ?? null, changes.disabled ?? null, changes.passwordHash ?? null],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM users');
    return Number(rows[0]?.n ?? 0);
  }
}
