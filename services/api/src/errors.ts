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

/** A password change whose current password is wrong (400, not 401: the caller's token is fine). */
export class WrongCurrentPasswordError extends VigilError {
  override readonly name = 'WrongCurrentPasswordError';
  constructor() {
    super('wrong_current_password', 'the current password is wrong', 400);
  }
}

/** A username that is already taken. */
export class UsernameTakenError extends VigilError {
  override readonly name = 'UsernameTakenError';
  constructor() {
    super('username_taken', 'that username is taken', 409);
  }
}

/** One image of an enrolment that failed, and why. */
export interface ImageFailure {
  index: number;
  filename: string;
  code: string;
  message: string;
}

/**
 * An enrolment with unusable images: the first failure's code and status (422, or 409
 * `duplicate_image`), with every failed image listed in `images`.
 */
export class EnrolmentRejectedError extends VigilError {
  override readonly name = 'EnrolmentRejectedError';
  readonly details: { images: ImageFailure[] };
  constructor(failures: ImageFailure[]) {
    const first = failures[0]!;
    super(
      first.code,
      failures.length === 1
        ? `image ${first.filename || first.index + 1}: ${first.message}`
        : `${failures.length} images failed; image ${first.filename || first.index + 1}: ${first.message}`,
      first.code === 'duplicate_image' ? 409 : 422,
    );
    this.details = { images: failures };
  }
}

/** Enrolment needs the face engine, which this process did not load. */
export class EngineUnavailableError extends VigilError {
  override readonly name = 'EngineUnavailableError';
  constructor() {
    super('engine_unavailable', 'this process has no face engine loaded', 503);
  }
}

/** A watchlist still attached to a running deployment. */
export class WatchlistInUseError extends VigilError {
  override readonly name = 'WatchlistInUseError';
  constructor() {
    super('watchlist_in_use', 'the watchlist is attached to a running deployment', 409);
  }
}

/** A deployment threshold under VIGIL_THRESHOLD_FLOOR. */
export class ThresholdBelowFloorError extends VigilError {
  override readonly name = 'ThresholdBelowFloorError';
  constructor(threshold: number, floor: number) {
    super('threshold_below_floor', `threshold ${threshold} is below the configured floor ${floor}`, 400);
  }
}

/** A deployment change its status does not allow (starting a running one, editing a stopped one). */
export class DeploymentStateError extends VigilError {
  override readonly name = 'DeploymentStateError';
  constructor(message: string) {
    super('invalid_deployment_state', message, 409);
  }
}

/** A start without a granted authorisation (or an urgent request awaiting its decision). */
export class AuthorisationRequiredError extends VigilError {
  override readonly name = 'AuthorisationRequiredError';
  constructor(message = 'an authorising officer must grant this deployment before it starts') {
    super('authorisation_required', message, 409);
  }
}

/** A start before the authorised window opens or after it closes. */
export class OutsideAuthorisedWindowError extends VigilError {
  override readonly name = 'OutsideAuthorisedWindowError';
  constructor(message: string) {
    super('outside_authorised_window', message, 409);
  }
}
