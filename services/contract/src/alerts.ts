/** Alert listings, outcomes (adjudication), claims and passing alerts to officers on the ground. */
import { type Static, Type } from 'typebox';
import { AdjudicationPayload, AlertPayload, ClaimPayload, DispatchPayload } from './realtime.js';
import { DateTime, NullableString, StringEnum, Uuid } from './schema.js';
import { OUTCOMES } from './values.js';

/** Page size of alert listings: one screen of a busy deployment; at most 200 a request. */
export const DEFAULT_ALERT_PAGE = 50;
export const MAX_ALERT_PAGE = 200;

const AlertId = (options: Record<string, unknown> = {}) =>
  Type.String({ pattern: '^[0-9]{1,19}$', ...options });

/** `:id` of an alert: alerts.id, a bigint, as decimal text. */
export const AlertIdParams = Type.Object({ id: AlertId({ description: 'alerts.id' }) });

/** An alert as a listing shows it, with its outcomes and who is handling it. */
export const ListedAlert = Type.Object({
  ...AlertPayload.properties,
  cameraName: Type.Optional(NullableString()),
  createdAt: DateTime(),
  probeImage: Type.Optional(
    Type.String({ description: 'data:image/jpeg;base64 probe crop; only with includeProbe=true' }),
  ),
  referenceImageUrl: NullableString({ description: 'GET it with the bearer token' }),
  adjudications: Type.Array(AdjudicationPayload),
  claim: Type.Optional(Type.Union([ClaimPayload, Type.Null()])),
  dispatches: Type.Optional(
    Type.Array(DispatchPayload, {
      description: 'Whom it was passed to and how far each officer has got; in deployment listings',
    }),
  ),
});
export type ListedAlert = Static<typeof ListedAlert>;

/** `GET /deployments/:id/alerts`. */
export const AlertListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ALERT_PAGE, default: DEFAULT_ALERT_PAGE })),
    before: Type.Optional(AlertId()),
    includeProbe: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
export type AlertListQuery = Static<typeof AlertListQuery>;

export const AlertPage = Type.Object({
  alerts: Type.Array(ListedAlert),
  total: Type.Integer(),
  nextBefore: NullableString(),
});
export type AlertPage = Static<typeof AlertPage>;

/** `POST /alerts/:id/adjudication`. */
export const AdjudicationInput = Type.Object(
  { outcome: StringEnum(OUTCOMES), note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type AdjudicationInput = Static<typeof AdjudicationInput>;

/** Who an alert of a deployment can be passed to. */
export const OfficerList = Type.Array(Type.Object({ id: Uuid(), username: Type.String() }));
export type OfficerList = Static<typeof OfficerList>;

/** `POST /alerts/:id/dispatch`. */
export const DispatchInput = Type.Object(
  { officerId: Uuid(), note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export type DispatchInput = Static<typeof DispatchInput>;

/** `:id` of a dispatch: alert_dispatches.id, a bigint, as decimal text. */
export const DispatchIdParams = Type.Object({ id: AlertId({ description: 'alert_dispatches.id' }) });

/** `GET /dispatches/mine`. */
export const DispatchListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ALERT_PAGE, default: DEFAULT_ALERT_PAGE })),
  },
  { additionalProperties: false },
);
export type DispatchListQuery = Static<typeof DispatchListQuery>;

/** An alert passed to an officer, with what they need on the ground. */
export const DispatchedAlert = Type.Object({
  ...DispatchPayload.properties,
  alert: ListedAlert,
  description: Type.String({ description: "The subject's notes" }),
  deploymentName: Type.String(),
  location: Type.String({ description: "The deployment's location" }),
  outcome: Type.Union([AdjudicationPayload, Type.Null()]),
});
export type DispatchedAlert = Static<typeof DispatchedAlert>;

export const DispatchedAlertList = Type.Array(DispatchedAlert);
