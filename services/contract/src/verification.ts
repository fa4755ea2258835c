/** Two-person verification: the deployment's rule, each operator's confirmation, and who is waiting. */
import { type Static, Type } from 'typebox';
import { ConfirmationPayload } from './realtime.js';
import { Uuid } from './schema.js';

export const VerificationPolicy = Type.Object({
  deploymentId: Uuid(),
  required: Type.Boolean({
    description: 'two different operators must confirm an alert before it is acted on',
  }),
});
export type VerificationPolicy = Static<typeof VerificationPolicy>;

/** `PUT /deployments/:id/verification`. */
export const VerificationPolicyInput = Type.Object(
  { required: Type.Boolean() },
  { additionalProperties: false },
);

/** One alert's confirmations. */
export const VerificationState = Type.Object({
  alertId: Type.String(),
  required: Type.Boolean(),
  confirmations: Type.Array(ConfirmationPayload),
  actionable: Type.Boolean({ description: 'may be passed to an officer and counted as confirmed' }),
  waitingFor: Type.Integer({ minimum: 0, description: 'confirmations still needed' }),
});
export type VerificationState = Static<typeof VerificationState>;

/** `GET /deployments/:id/verifications`. */
export const VerificationStates = Type.Object({
  ...VerificationPolicy.properties,
  alerts: Type.Array(VerificationState),
});
export type VerificationStates = Static<typeof VerificationStates>;

/** `POST /alerts/:id/verifications`. */
export const ConfirmationInput = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
