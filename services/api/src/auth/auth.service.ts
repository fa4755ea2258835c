import { createHash, randomBytes } from 'node:crypto';
import type { PasswordChangeBody, UserChanges, UserInput } from '@vigil/contract';
import { type AuditRepository, type Database, NotFoundError, ValidationError } from '@vigil/core';
import {
  AccountLockedError,
  InvalidCredentialsError,
  InvalidTokenError,
  UsernameTakenError,
  WrongCurrentPasswordError,
} from '../errors.js';
import type { Repositories } from '../repositories.js';
import { LoginThrottle, type ThrottlePolicy } from './login-throttle.js';
import { checkPasswordPolicy, dummyPasswordHash, hashPassword, verifyPassword } from './password.js';
import type { AuthUser } from './roles.js';
import type { SessionRepository } from './session.repository.js';
import type { UserRecord, UserRepository } from './user.repository.js';

/**
 * Login throttling: growing delays, never a lock that someone else can trigger.
 * - one address guessing one account: 5 free tries (typos), then 1 s, 2 s, 4 s ... up to 15 minutes;
 * - one address trying many accounts (spraying): 20 free, then the same growth;
 * - one account from many addresses (a distributed guess): 20 free, then at most a minute apart, so
 *   the rightful user is slowed, never locked out, by strangers' failures (OWASP: prefer delays).
 */
export const LOGIN_THROTTLE: Record<'accountAddress' | 'address' | 'account', ThrottlePolicy> = {
  accountAddress: { free: 5, maxDelayMs: 15 * 60_000 },
  address: { free: 20, maxDelayMs: 15 * 60_000 },
  account: { free: 20, maxDelayMs: 60_000 },
};
/** Token entropy: 32 random bytes, base64url. */
const TOKEN_BYTES = 32;

export interface AuthOptions {
  /** Minutes a login token lives (VIGIL_TOKEN_TTL_MINUTES). */
  tokenTtlMinutes: number;
  /** Overrides of LOGIN_THROTTLE's policies (tests). */
  throttle?: Partial<typeof LOGIN_THROTTLE>;
  /** The clock of the throttle (tests). */
  now?: () => number;
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
  readonly #throttle: LoginThrottle<keyof typeof LOGIN_THROTTLE>;

  readonly #db: Database;

  constructor(
    repositories: Pick<Repositories, 'db' | 'users' | 'sessions' | 'audit' | 'loginThrottle'>,
    private readonly options: AuthOptions,
    /** Key of the throttle's keyed hashes: the same in every API process (derived from the data key). */
    throttleSecret: Buffer,
  ) {
    this.#db = repositories.db;
    this.#users = repositories.users;
    this.#sessions = repositories.sessions;
    this.#audit = repositories.audit;
    // Unknown usernames are throttled exactly like known ones, so a delay reveals nothing.
    this.#throttle = new LoginThrottle(
      repositories.loginThrottle,
      { ...LOGIN_THROTTLE, ...options.throttle },
      throttleSecret,
      options.now,
    );
  }

  /**
   * Checks a username and password. Refuses (429 `account_locked`, with the seconds to wait) an
   * attempt the throttle holds back; the attempt counts before the password check, so concurrent
   * guesses are counted too. Audits every success and failure.
   */
  async login(username: string, password: string, ip: string): Promise<LoginResult> {
    const account = username.toLowerCase();
    const keys = this.#throttle.keys({ accountAddress: `${account}\n${ip}`, address: ip, account });
    const wait = await this.#throttle.begin(keys);
    if (wait > 0) {
      await this.#audit.append({
        actorName: username,
        action: 'auth.login_failed',
        targetType: 'user',
        details: { username, ip, reason: 'throttled' },
      });
      throw new AccountLockedError(wait);
    }
    let outcome: 'failed' | 'succeeded' = 'failed';
    try {
      const user = await this.#users.findByUsername(username);
      const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
      if (!user || !passwordOk || user.disabled) {
        if (user) await this.#users.recordFailure(user.id);
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
          },
        });
        throw new InvalidCredentialsError();
      }
      outcome = 'succeeded';
      return await this.#startSession(user, ip);
    } finally {
      // A success clears the account's counts, never the address's: logging in to one's own account
      // must not reset a spray from the same address.
      await this.#throttle.end(keys, (kind) =>
        outcome === 'failed' ? 'failed' : kind === 'address' ? 'succeeded' : 'cleared',
      );
    }
  }

  async #startSession(user: UserRecord, ip: string): Promise<LoginResult> {
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

  /**
   * Changes the caller's own password after checking the current one (every role). The caller's
   * other sessions end; this one stays. Wrong current passwords count against the login throttle
   * of this account and address, so a stolen token cannot be used to guess the password.
   */
  async changeOwnPassword(verified: VerifiedToken, input: PasswordChangeBody, ip: string): Promise<void> {
    const user = await this.#users.findById(verified.user.id);
    if (!user || user.disabled) throw new InvalidTokenError();
    const keys = this.#throttle.keys({ accountAddress: `${verified.user.username.toLowerCase()}\n${ip}` });
    const wait = await this.#throttle.begin(keys);
    if (wait > 0) throw new AccountLockedError(wait);
    let currentOk = false;
    try {
      currentOk = await verifyPassword(user.passwordHash, input.currentPassword);
    } finally {
      await this.#throttle.end(keys, () => (currentOk ? 'cleared' : 'failed'));
    }
    if (!currentOk) {
      await this.#audit.append({
        actorId: user.id,
        actorName: user.username,
        action: 'user.password_change_failed',
        targetType: 'user',
        targetId: user.id,
        details: { ip, reason: 'wrong_current_password' },
      });
      throw new WrongCurrentPasswordError();
    }
    checkPasswordPolicy(input.newPassword, user.username);
    if (input.newPassword === input.currentPassword)
      throw new ValidationError('the new password must differ from the current one', 'same_password');
    const passwordHash = await hashPassword(input.newPassword);
    await this.#db.transaction(async (tx) => {
      await this.#users.update(user.id, { passwordHash }, tx);
      await this.#sessions.revokeOthersOfUser(user.id, verified.sessionId, tx);
      await this.#audit.append(
        {
          actorId: user.id,
          actorName: user.username,
          action: 'user.password_change',
          targetType: 'user',
          targetId: user.id,
          details: { ip },
        },
        tx,
      );
    });
  }

  /** Creates a user (admin only, checked by the route); the password must meet the policy. */
  async createUser(actor: AuthUser, input: UserInput): Promise<PublicUser> {
    if (!USERNAME_PATTERN.test(input.username))
      throw new ValidationError('a username is 1-64 letters, digits, or . _ @ -', 'invalid_username');
    checkPasswordPolicy(input.password, input.username);
    const passwordHash = await hashPassword(input.password);
    return this.#db.transaction(async (tx) => {
      const created = await this.#users.create({ ...input, passwordHash }, tx);
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
  async updateUser(actor: AuthUser, id: string, changes: UserChanges): Promise<PublicUser> {
    const existing = await this.#users.findById(id);
    if (!existing) throw new NotFoundError('user');
    if (changes.password !== undefined) checkPasswordPolicy(changes.password, existing.username);
    if (id === actor.id && (changes.disabled === true || (changes.role && changes.role !== 'admin')))
      throw new ValidationError('an admin may not disable or demote themselves', 'self_lockout');
    const passwordHash = changes.password !== undefined ? await hashPassword(changes.password) : undefined;
    return this.#db.transaction(async (tx) => {
      const updated = await this.#users.update(
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
    const created = await this.#db.transaction(async (tx) => {
      const user = await this.#users.create({ username: 'admin', passwordHash, role: 'admin' }, tx);
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
