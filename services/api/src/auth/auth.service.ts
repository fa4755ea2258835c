import { createHash, randomBytes } from 'node:crypto';
import { AuditRepository, type Database, NotFoundError, ValidationError } from '@vigil/core';
import {
  AccountLockedError,
  InvalidCredentialsError,
  InvalidTokenError,
  UsernameTakenError,
} from '../errors.js';
import { LoginThrottle } from './login-throttle.js';
import { checkPasswordPolicy, dummyPasswordHash, hashPassword, verifyPassword } from './password.js';
import type { AuthUser, UserRole } from './roles.js';
import { SessionRepository } from './session.repository.js';
import { type UserRecord, UserRepository } from './user.repository.js';

/** Failed logins in a row after which an account is locked (OWASP suggests 3-10). */
export const ACCOUNT_LOCK_AFTER = 5;
/** How long a locked account stays locked. */
export const ACCOUNT_LOCK_MS = 15 * 60_000;
/** Failed logins from one address within the window after which it is refused (spraying). */
export const IP_LOCK_AFTER = 20;
export const IP_WINDOW_MS = 15 * 60_000;
/** Token entropy: 32 random bytes, base64url. */
const TOKEN_BYTES = 32;

export interface AuthOptions {
  /** Minutes a login token lives (VIGIL_TOKEN_TTL_MINUTES). */
  tokenTtlMinutes: number;
  accountLockAfter?: number;
  accountLockMs?: number;
  ipLockAfter?: number;
  ipWindowMs?: number;
}

export interface LoginResult {
  token: string;
  expiresAt: string;
  user: AuthUser;
}

/** A verified bearer token: who it belongs to and which session it is. */
export interface VerifiedToken {
  user: AuthUser;
  sessionId: string;
  expiresAt: Date;
}

export interface PublicUser extends AuthUser {
  disabled: boolean;
  createdAt: string;
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function publicUser(user: UserRecord): PublicUser {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    disabled: user.disabled,
    createdAt: user.createdAt,
  };
}

const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

/** Logins, tokens, users: every decision about who may call the API. */
export class AuthService {
  readonly #users: UserRepository;
  readonly #sessions: SessionRepository;
  readonly #audit: AuditRepository;
  readonly #ipThrottle: LoginThrottle;
  readonly #usernameThrottle: LoginThrottle;
  readonly #lockAfter: number;
  readonly #lockMs: number;

  constructor(
    private readonly db: Database,
    private readonly options: AuthOptions,
  ) {
    this.#users = new UserRepository(db);
    this.#sessions = new SessionRepository(db);
    this.#audit = new AuditRepository(db);
    this.#lockAfter = options.accountLockAfter ?? ACCOUNT_LOCK_AFTER;
    this.#lockMs = options.accountLockMs ?? ACCOUNT_LOCK_MS;
    this.#ipThrottle = new LoginThrottle(
      options.ipLockAfter ?? IP_LOCK_AFTER,
      options.ipWindowMs ?? IP_WINDOW_MS,
    );
    // Unknown usernames are throttled in memory exactly like known ones, so lockout reveals nothing.
    this.#usernameThrottle = new LoginThrottle(this.#lockAfter, this.#lockMs);
  }

  /**
   * Checks a username and password. Refuses (429 `account_locked`) an account or address with too
   * many recent failures; audits every success and failure.
   */
  async login(username: string, password: string, ip: string): Promise<LoginResult> {
    const ipWait = this.#ipThrottle.retryAfter(ip);
    if (ipWait > 0) {
      await this.#audit.append({
        actorName: username,
        action: 'auth.login_failed',
        targetType: 'user',
        details: { username, ip, reason: 'address_locked' },
      });
      throw new AccountLockedError(ipWait);
    }
    const user = await this.#users.findByUsername(username);
    const lockedFor = user?.lockedUntil
      ? Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000)
      : this.#usernameThrottle.retryAfter(username);
    if (lockedFor > 0) {
      await this.#audit.append({
        actorId: user?.id ?? null,
        actorName: username,
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user?.id ?? '',
        details: { username, ip, reason: 'account_locked' },
      });
      throw new AccountLockedError(lockedFor);
    }
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !passwordOk || user.disabled) {
      this.#ipThrottle.fail(ip);
      let locked = false;
      if (user) {
        const after = await this.#users.recordFailure(
          user.id,
          this.#lockAfter,
          new Date(Date.now() + this.#lockMs),
        );
        locked = Boolean(after?.lockedUntil && after.lockedUntil.getTime() > Date.now());
      } else {
        this.#usernameThrottle.fail(username);
      }
      await this.#audit.append({
        actorId: user?.id ?? null,
        actorName: username,
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user?.id ?? '',
        details: {
          username,
          ip,
          reason: !user ? 'unknown_user' : user.disabled && passwordOk ? 'user_disabled' : 'wrong_password',
          ...(locked ? { locked: true } : {}),
        },
      });
      throw new InvalidCredentialsError();
    }
    if (user.failedLogins > 0 || user.lockedUntil) await this.#users.resetFailures(user.id);
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = new Date(Date.now() + this.options.tokenTtlMinutes * 60_000);
    const sessionId = await this.#sessions.create(user.id, tokenHash(token), expiresAt);
    await this.#audit.append({
      actorId: user.id,
      actorName: user.username,
      action: 'auth.login',
      targetType: 'session',
      targetId: sessionId,
      details: { ip },
    });
    return {
      token,
      expiresAt: expiresAt.toISOString(),
      user: { id: user.id, username: user.username, role: user.role },
    };
  }

  /**
   * Resolves a bearer token to its user, or throws InvalidTokenError (401) when it is unknown,
   * expired, revoked, or its user is disabled. The socket.io handshake uses this too.
   */
  async verifyToken(token: string | undefined | null): Promise<VerifiedToken> {
    if (!token) throw new InvalidTokenError('unauthorized');
    if (token.length > 200) throw new InvalidTokenError();
    const session = await this.#sessions.findByTokenHash(tokenHash(token));
    if (!session || session.revokedAt || session.disabled) throw new InvalidTokenError();
    if (session.expiresAt.getTime() <= Date.now())
      throw new InvalidTokenError('token_expired', 'the token has expired; log in again');
    return {
      user: { id: session.userId, username: session.username, role: session.role },
      sessionId: session.sessionId,
      expiresAt: session.expiresAt,
    };
  }

  /** Revokes the session of `token`'s caller. */
  async logout(verified: VerifiedToken): Promise<void> {
    await this.#sessions.revoke(verified.sessionId);
    await this.#audit.append({
      actorId: verified.user.id,
      actorName: verified.user.username,
      action: 'auth.logout',
      targetType: 'session',
      targetId: verified.sessionId,
    });
  }

  /** Creates a user (admin only, checked by the route); the password must meet the policy. */
  async createUser(
    actor: AuthUser,
    input: { username: string; password: string; role: UserRole },
  ): Promise<PublicUser> {
    if (!USERNAME_PATTERN.test(input.username))
      throw new ValidationError('a username is 1-64 letters, digits, or . _ @ -', 'invalid_username');
    checkPasswordPolicy(input.password, input.username);
    const passwordHash = await hashPassword(input.password);
    return this.db.transaction(async (tx) => {
      const created = await new UserRepository(tx).create({ ...input, passwordHash }, tx);
      if (!created) throw new UsernameTakenError();
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'user.create',
          targetType: 'user',
          targetId: created.id,
          details: { username: created.username, role: created.role },
        },
        tx,
      );
      return publicUser(created);
    });
  }

  async listUsers(): Promise<PublicUser[]> {
    return (await this.#users.list()).map(publicUser);
  }

  /** Changes a user's role, disables/enables them, or sets a new password; disabling or a new password revokes their tokens. */
  async updateUser(
    actor: AuthUser,
    id: string,
    changes: { role?: UserRole; disabled?: boolean; password?: string },
  ): Promise<PublicUser> {
    const existing = await this.#users.findById(id);
    if (!existing) throw new NotFoundError('user');
    if (changes.password !== undefined) checkPasswordPolicy(changes.password, existing.username);
    if (id === actor.id && (changes.disabled === true || (changes.role && changes.role !== 'admin')))
      throw new ValidationError('an admin may not disable or demote themselves', 'self_lockout');
    const passwordHash = changes.password !== undefined ? await hashPassword(changes.password) : undefined;
    return this.db.transaction(async (tx) => {
      const updated = await new UserRepository(tx).update(
        id,
        { role: changes.role, disabled: changes.disabled, passwordHash },
        tx,
      );
      if (!updated) throw new NotFoundError('user');
      if (changes.disabled === true || passwordHash || (changes.role && changes.role !== existing.role))
        await this.#sessions.revokeAllForUser(id, tx);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'user.update',
          targetType: 'user',
          targetId: id,
          details: {
            ...(changes.role ? { role: changes.role } : {}),
            ...(changes.disabled !== undefined ? { disabled: changes.disabled } : {}),
            ...(passwordHash ? { passwordChanged: true } : {}),
          },
        },
        tx,
      );
      return publicUser(updated);
    });
  }

  /**
   * Creates the `admin` user on first start. Returns the generated password when none was given
   * (the caller prints it once to stdout, never to the log), or undefined when none was generated.
   */
  async ensureAdmin(adminPassword?: string): Promise<{ created: boolean; generatedPassword?: string }> {
    if (await this.#users.findByUsername('admin')) return { created: false };
    const generated = adminPassword ? undefined : randomBytes(18).toString('base64url');
    const password = adminPassword ?? generated!;
    const passwordHash = await hashPassword(password);
    const created = await this.db.transaction(async (tx) => {
      const user = await new UserRepository(tx).create(
        { username: 'admin', passwordHash, role: 'admin' },
        tx,
      );
      if (user)
        await this.#audit.append(
          {
            actorName: 'system',
            action: 'user.create',
            targetType: 'user',
            targetId: user.id,
            details: { username: 'admin', role: 'admin', bootstrap: true },
          },
          tx,
        );
      return Boolean(user);
    });
    // Another process created it first: its password stands.
    if (!created) return { created: false };
    return { created: true, generatedPassword: generated };
  }
}
