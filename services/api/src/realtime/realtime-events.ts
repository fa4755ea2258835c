/**
 * The socket.io event maps of the `/alerts` namespace, shared by the server and the console. This
 * file imports nothing, so the browser build can use the same types.
 */

/** The outcomes an operator or officer can record for an alert. */
export const OUTCOMES = ['confirmed', 'false_alert', 'not_stopped', 'engaged', 'arrested'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** An alert as the contract sends it to operators. */
export interface AlertPayload {
  /** alerts.id (a bigint) as decimal text. */
  id: string;
  deploymentId: string;
  cameraId: string;
  subjectId: string;
  label: string;
  category: string;
  priority: string;
  score: number;
  threshold: number;
  /** ISO 8601: when the frame was captured. */
  capturedAt: string;
  /** `data:image/jpeg;base64,...` of the decrypted probe crop. */
  probeImage: string;
  /** The API route serving the subject's reference image (needs the bearer token), or null if none. */
  referenceImageUrl: string | null;
}

/** An outcome recorded for an alert. */
export interface AdjudicationPayload {
  id: string;
  alertId: string;
  deploymentId: string;
  outcome: Outcome;
  note: string;
  userId: string | null;
  username: string;
  createdAt: string;
}

/** An alert an operator passed to an officer on the ground. */
export interface DispatchPayload {
  id: string;
  alertId: string;
  deploymentId: string;
  officerId: string;
  officerName: string;
  dispatchedBy: string | null;
  dispatchedByName: string;
  note: string;
  createdAt: string;
}

/** Who is handling an alert: sent when an operator claims it (user set) and when it is released (null). */
export interface ClaimPayload {
  alertId: string;
  deploymentId: string;
  userId: string | null;
  username: string | null;
  claimedAt: string | null;
}

/** One operator's confirmation of an alert on a two-person deployment. */
export interface ConfirmationPayload {
  userId: string | null;
  username: string;
  note: string;
  createdAt: string;
}

/** An alert's two-person verification after an operator confirmed it: who has, and how many more are needed. */
export interface VerificationPayload {
  alertId: string;
  deploymentId: string;
  required: boolean;
  confirmations: ConfirmationPayload[];
  /** Two different operators have confirmed it: it may be acted on. */
  actionable: boolean;
  /** Confirmations still needed before it may be acted on. */
  waitingFor: number;
}

/** Why a deployment's alerts were deleted while it ran: its authorisation was refused or lapsed. */
export type PurgeReason = 'authorisation_refused' | 'authorisation_lapsed';

/** A deployment whose alerts and crops the server deleted: clients drop every alert of it they hold. */
export interface PurgedPayload {
  deploymentId: string;
  reason: PurgeReason;
}

/** A better view of the alert's track replaced its face crop: a client showing it fetches it again. */
export interface CropPayload {
  alertId: string;
  deploymentId: string;
}

export interface SubscribeRequest {
  deploymentId: string;
  /** The id of the last alert this client received: the server first sends every later one. */
  since?: string | number;
}

export interface RealtimeError {
  code: string;
  message: string;
}

export type SubscribeAck =
  | { ok: true; deploymentId: string; replayed: number; truncated: boolean }
  | { ok: false; error: RealtimeError };

export type UnsubscribeAck = { ok: true } | { ok: false; error: RealtimeError };

/** What the server emits. */
export interface ServerToClientEvents {
  alert: (alert: AlertPayload) => void;
  adjudication: (adjudication: AdjudicationPayload) => void;
  dispatch: (dispatch: DispatchPayload) => void;
  claim: (claim: ClaimPayload) => void;
  /** The alert's face crop was replaced by a better view of its track: fetch it again. */
  crop: (crop: CropPayload) => void;
  /** An operator confirmed an alert of a two-person deployment. */
  verification: (verification: VerificationPayload) => void;
  /** The deployment's alerts were deleted (authorisation refused or lapsed): drop them. */
  purged: (purged: PurgedPayload) => void;
  /** A subscription the server ended because the user's access to the deployment was withdrawn. */
  unsubscribed: (notice: { deploymentId: string; error: RealtimeError }) => void;
}

/** What a client emits. */
export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack?: (result: SubscribeAck) => void) => void;
  unsubscribe: (request: { deploymentId: string }, ack?: (result: UnsubscribeAck) => void) => void;
}
