import { VigilError } from '@vigil/core';

/** An alert of a two-person deployment acted on before two different operators confirmed it. */
export class VerificationRequiredError extends VigilError {
  override readonly name = 'VerificationRequiredError';
  constructor(confirmations: number) {
    super(
      'verification_required',
      `this deployment needs two different operators to confirm an alert before it is acted on (${confirmations} of 2 so far)`,
      409,
    );
  }
}

/** The same operator confirming an alert twice: the second confirmation must be someone else's. */
export class AlreadyVerifiedError extends VigilError {
  override readonly name = 'AlreadyVerifiedError';
  constructor() {
    super(
      'already_verified',
      'you have already confirmed this alert; a different operator must confirm it',
      409,
    );
  }
}

/** A verification on a deployment that does not require two-person verification. */
export class VerificationNotRequiredError extends VigilError {
  override readonly name = 'VerificationNotRequiredError';
  constructor() {
    super(
      'verification_not_required',
      'this deployment does not require two-person verification; record the outcome instead',
      409,
    );
  }
}
