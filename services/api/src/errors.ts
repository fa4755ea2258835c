import { VigilError } from '@vigil/core';

/** Wrong username or password; deliberately the same for an unknown user. */
export class InvalidCredentialsError extends VigilError {
  override readonly name = 'InvalidCredentialsError';
  constructor() {
    super('invalid_credentials', 'wrong username or password', 401);
  }
}

/** Too many failed logins for this account or address; try again later. */
export class AccountLockedError extends VigilError {
  override readonly name = 'AccountLockedError';
  constructor(readonly retryAfterSeconds: number) {
    super('account_locked', 'too many failed logins; try again later', 429);
  }
}

/** A token that is missing, unknown, expired, revoked, or whose user is disabled. */
export class InvalidTokenError extends VigilError {
  override readonly name = 'InvalidTokenError';
  constructor(code: 'unauthorized' | 'invalid_token' | 'token_expired' = 'invalid_token', message?: string) {
    super(code, message ?? 'authentication required', 401);
  }
}

/** A password that does not meet the policy. */
export class WeakPasswordError extends VigilError {
  override readonly name = 'WeakPasswordError';
  constructor(message: string) {
    super('weak_password', message, 400);
  }
}

/** A username that is already taken. */
export class UsernameTakenError extends VigilError {
  override readonly name = 'UsernameTakenError';
  constructor() {
    super('username_taken', 'that username is taken', 409);
  }
}
