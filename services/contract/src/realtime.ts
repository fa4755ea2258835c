/**
 * The socket.io events of the `/alerts` namespace: each payload's schema and type, and the two event
 * maps the server and the console type their sockets with.
 */
import { type Static, Type } from 'typebox';
import { DateTime, NullableDateTime, NullableString, StringEnum, Uuid } from './schema.js';
import { OUTCOMES, PURGE_REASONS, SUBJECT_PRIORITIES } from './values.js';

/** An alert as the contract sends it to operators. */
export const AlertPayload = Type.Object({
  id: Type.String({ description: 'alerts.id (bigint) as decimal text' }),
  deploymentId: Uuid(),
  cameraId: Uuid(),
  subjectId: Uuid(),
  label: Type.String(),
  category: Type.String(),
  priority: StringEnum(SUBJECT_PRIORITIES),
  score: Type.Number(),
  threshold: Type.Number(),
  capturedAt: DateTime(),
  probeImage: Type.String({ description: '`data:image/jpeg;base64,...` of the decrypted probe crop' }),
  referenceImageUrl: NullableString({
    description: "The API route serving the subject's reference image (needs the bearer token), or null",
  }),
});
export type AlertPayload = Static<typeof AlertPayload>;

/** An outcome recorded for an alert. */
export const AdjudicationPayload = Type.Object({
  id: Type.String(),
  alertId: Type.String(),
  deploymentId: Uuid(),
  outcome: StringEnum(OUTCOMES),
  note: Type.String(),
  userId: NullableString(),
  username: Type.String(),
  createdAt: DateTime(),
});
export type AdjudicationPayload = Static<typeof AdjudicationPayload>;

/** An alert an operator passed to an officer on the ground. */
export const DispatchPayload = Type.Object({
  id: Type.String(),
  alertId: Type.String(),
  deploymentId: Uuid(),
  officerId: Uuid(),
  officerName: Type.String(),
  dispatchedBy: NullableString(),
  dispatchedByName: Type.String(),
  note: Type.String(),
  createdAt: DateTime(),
  acknowledgedAt: NullableDateTime({ description: 'When the officer acknowledged it, or null' }),
  enRouteAt: NullableDateTime({
    description: 'When the officer set off towards the person, or null; only after acknowledging',
  }),
});
export type DispatchPayload = Static<typeof DispatchPayload>;

/** Who is handling an alert: sent when an operator claims it (user set) and when it is released (null). */
export const ClaimPayload = Type.Object(
  {
    alertId: Type.String(),
    deploymentId: Uuid(),
    userId: NullableString(),
    username: NullableString(),
    claimedAt: NullableDateTime(),
  },
  { description: 'Who is handling the alert; userId null when nobody is' },
);
export type ClaimPayload = Static<typeof ClaimPayload>;

/** One operator's confirmation of an alert on a two-person deployment. */
export const ConfirmationPayload = Type.Object({
  userId: NullableString(),
  username: Type.String(),
  note: Type.String(),
  createdAt: DateTime(),
});
export type ConfirmationPayload = Static<typeof ConfirmationPayload>;

/** An alert's two-person verification after an operator confirmed it: who has, and how many more are needed. */
export const VerificationPayload = Type.Object({
  alertId: Type.String(),
  deploymentId: Uuid(),
  required: Type.Boolean(),
  confirmations: Type.Array(ConfirmationPayload),
  actionable: Type.Boolean({ description: 'Two different operators have confirmed it: it may be acted on' }),
  waitingFor: Type.Integer({ description: 'Confirmations still needed before it may be acted on' }),
});
export type VerificationPayload = Static<typeof VerificationPayload>;

/** A deployment whose alerts and crops the server deleted: clients drop every alert of it they hold. */
export const PurgedPayload = Type.Object({ deploymentId: Uuid(), reason: StringEnum(PURGE_REASONS) });
export type PurgedPayload = Static<typeof PurgedPayload>;

/** A better view of the alert's track replaced its face crop: a client showing it fetches it again. */
export const CropPayload = Type.Object({ alertId: Type.String(), deploymentId: Uuid() });
export type CropPayload = Static<typeof CropPayload>;

export const SubscribeRequest = Type.Object({
  deploymentId: Type.String(),
  since: Type.Optional(
    Type.Union([Type.String(), Type.Number()], {
      description: 'The id of the last alert this client received: the server first sends every later one',
    }),
  ),
});
export type SubscribeRequest = Static<typeof SubscribeRequest>;

export const UnsubscribeRequest = Type.Object({ deploymentId: Type.String() });
export type UnsubscribeRequest = Static<typeof UnsubscribeRequest>;

export const RealtimeError = Type.Object({ code: Type.String(), message: Type.String() });
export type RealtimeError = Static<typeof RealtimeError>;

export const SubscribeAck = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    deploymentId: Type.String(),
    replayed: Type.Integer(),
    truncated: Type.Boolean(),
  }),
  Type.Object({ ok: Type.Literal(false), error: RealtimeError }),
]);
export type SubscribeAck = Static<typeof SubscribeAck>;

export const UnsubscribeAck = Type.Union([
  Type.Object({ ok: Type.Literal(true) }),
  Type.Object({ ok: Type.Literal(false), error: RealtimeError }),
]);
export type UnsubscribeAck = Static<typeof UnsubscribeAck>;

/** A subscription the server ended because the user's access to the deployment was withdrawn. */
export const UnsubscribedNotice = Type.Object({ deploymentId: Type.String(), error: RealtimeError });
export type UnsubscribedNotice = Static<typeof UnsubscribedNotice>;

/**
 * One frame of a camera's live view: every face blurred (in the detector) except those of tracks
 * that alerted. Sent only to sockets watching the camera; never stored.
 */
export const LiveViewPayload = Type.Object({
  deploymentId: Uuid(),
  cameraId: Uuid(),
  image: Type.String({ description: '`data:image/jpeg;base64,...`, at most 640 px wide' }),
  width: Type.Integer(),
  height: Type.Integer(),
  capturedAt: DateTime(),
});
export type LiveViewPayload = Static<typeof LiveViewPayload>;

/** Which camera's live view to start or stop watching. */
export const WatchRequest = Type.Object({ deploymentId: Type.String(), cameraId: Type.String() });
export type WatchRequest = Static<typeof WatchRequest>;

export const WatchAck = UnsubscribeAck;
export type WatchAck = UnsubscribeAck;

/** A live view the server ended (access withdrawn). */
export const UnwatchedNotice = Type.Object({
  deploymentId: Type.String(),
  cameraId: Type.String(),
  error: RealtimeError,
});
export type UnwatchedNotice = Static<typeof UnwatchedNotice>;

/** What the server emits. */
export interface ServerToClientEvents {
  alert: (alert: AlertPayload) => void;
  adjudication: (adjudication: AdjudicationPayload) => void;
  /** An alert passed to an officer, sent again each time that officer acknowledges it or sets off. */
  dispatch: (dispatch: DispatchPayload) => void;
  claim: (claim: ClaimPayload) => void;
  /** The alert's face crop was replaced by a better view of its track: fetch it again. */
  crop: (crop: CropPayload) => void;
  /** An operator confirmed an alert of a two-person deployment. */
  verification: (verification: VerificationPayload) => void;
  /** The deployment's alerts were deleted (authorisation refused or lapsed): drop them. */
  purged: (purged: PurgedPayload) => void;
  unsubscribed: (notice: UnsubscribedNotice) => void;
  /** A frame of a camera this socket watches. */
  liveview: (frame: LiveViewPayload) => void;
  /** A live view the server ended (access withdrawn). */
  unwatched: (notice: UnwatchedNotice) => void;
}

/** What a client emits. */
export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack?: (result: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest, ack?: (result: UnsubscribeAck) => void) => void;
  /** Starts a camera's live view (a few frames a second, while watched). */
  watch: (request: WatchRequest, ack?: (result: WatchAck) => void) => void;
  unwatch: (request: WatchRequest, ack?: (result: WatchAck) => void) => void;
}
