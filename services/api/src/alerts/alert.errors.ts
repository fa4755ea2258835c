import { VigilError } from '@vigil/core';

/** An operator asked about a deployment they are not assigned to (deployment_operators). */
export class NotAssignedError extends VigilError {
  override readonly name = 'NotAssignedError';
  constructor() {
    super('not_assigned', 'you are not assigned to this deployment', 403);
  }
}

/** An alert was passed to someone who cannot receive it (not assigned, disabled, or not an operator). */
export class InvalidOfficerError extends VigilError {
  override readonly name = 'InvalidOfficerError';
  constructor() {
    super('invalid_officer', 'that user is not an operator or officer assigned to this deployment', 422);
  }
}

/** An alert another operator is handling: they release it (or an admin does) before anyone else acts. */
export class AlertClaimedError extends VigilError {
  override readonly name = 'AlertClaimedError';
  constructor(holder: string) {
    super('alert_claimed', `${holder} is handling this alert`, 409);
  }
}

/** Someone other than the officer an alert was passed to tried to record that officer's progress. */
export class NotYourDispatchError extends VigilError {
  override readonly name = 'NotYourDispatchError';
  constructor() {
    super('not_your_dispatch', 'only the officer this alert was passed to can record that', 403);
  }
}

/** En route before acknowledging: the operator must know the officer has seen it first. */
export class DispatchNotAcknowledgedError extends VigilError {
  override readonly name = 'DispatchNotAcknowledgedError';
  constructor() {
    super('not_acknowledged', 'acknowledge the alert before setting off', 409);
  }
}
