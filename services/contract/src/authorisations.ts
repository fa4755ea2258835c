/** Requests for a deployment's authorisation and the authorising officer's decisions. */
import { type Static, Type } from 'typebox';
import {
  Counts,
  DateTime,
  NonBlank,
  Nullable,
  NullableDateTime,
  NullableString,
  StringEnum,
  Uuid,
} from './schema.js';
import {
  AUTHORISATION_STATUSES,
  EXCLUSION_REASONS,
  SUBJECT_CATEGORIES,
  SUBJECT_PRIORITIES,
} from './values.js';

/** A watchlist's make-up without names; `excluded` counts entries left out, by reason. */
export const WatchlistComposition = Nullable(
  Type.Object(
    {
      subjects: Type.Optional(Type.Integer()),
      byCategory: Type.Optional(Counts(SUBJECT_CATEGORIES)),
      byPriority: Type.Optional(Counts(SUBJECT_PRIORITIES)),
      excluded: Type.Optional(Counts(EXCLUSION_REASONS)),
    },
    {
      description:
        'Numbers per category and priority, no names. excluded: notApproved (no approval recorded), reviewOverdue (past its review date), notAuthorised (added after the authorisation)',
    },
  ),
);
export type WatchlistComposition = Static<typeof WatchlistComposition>;

/** One request for authorisation, with the terms as requested and the decision. */
export const Authorisation = Type.Object({
  id: Uuid(),
  deploymentId: Uuid(),
  deploymentName: Type.Optional(Type.String()),
  status: StringEnum(AUTHORISATION_STATUSES),
  urgent: Type.Boolean(),
  requestedBy: Type.Optional(NullableString()),
  requestedByName: Type.Optional(NullableString()),
  requestedAt: DateTime(),
  decisionDueAt: Type.Optional(
    NullableDateTime({
      description: 'Urgent requests: the deployment stops and its data is deleted if undecided by then',
    }),
  ),
  purpose: Type.Optional(Type.String()),
  legalBasis: Type.Optional(Type.String()),
  location: Type.Optional(Type.String()),
  startsAt: Type.Optional(NullableDateTime()),
  endsAt: Type.Optional(NullableDateTime()),
  threshold: Type.Optional(Type.Number()),
  watchlistIds: Type.Optional(Type.Array(Uuid())),
  composition: WatchlistComposition,
  decidedBy: Type.Optional(NullableString()),
  decidedByName: Type.Optional(NullableString()),
  decidedAt: Type.Optional(NullableDateTime()),
  rationale: Type.String(),
});
export type Authorisation = Static<typeof Authorisation>;

export const AuthorisationList = Type.Array(Authorisation);

/** `POST /deployments/:id/authorisation`. */
export const AuthorisationRequestBody = Type.Object(
  { urgent: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type AuthorisationRequestBody = Static<typeof AuthorisationRequestBody>;

/** `GET /authorisations`. */
export const AuthorisationQuery = Type.Object(
  { status: Type.Optional(StringEnum(AUTHORISATION_STATUSES)) },
  { additionalProperties: false },
);
export type AuthorisationQuery = Static<typeof AuthorisationQuery>;

/** `POST /authorisations/:id/decision`. */
export const DecisionInput = Type.Object(
  {
    decision: StringEnum(['granted', 'refused']),
    rationale: NonBlank(4000),
  },
  { additionalProperties: false },
);
export type DecisionInput = Static<typeof DecisionInput>;
