/** Deployments, their watchlists, operators and cameras; start, stop and status. */
import { type Static, Type } from 'typebox';
import { WatchlistComposition } from './authorisations.js';
import {
  AllCounts,
  DateTime,
  NonBlank,
  Nullable,
  NullableDateTime,
  NullableEnum,
  NullableString,
  StringEnum,
  Uuid,
} from './schema.js';
import { AUTHORISATION_STATUSES, NOT_ANALYSED_REASONS } from './values.js';

export const DEPLOYMENT_STATUSES = ['planned', 'running', 'stopped'] as const;
export const STOP_REASONS = [
  'manual',
  'window_ended',
  'authorisation_refused',
  'authorisation_lapsed',
] as const;

const UuidList = (options: Record<string, unknown> = {}) =>
  Type.Array(Uuid(), { maxItems: 1000, ...options });

export const Deployment = Type.Object({
  id: Uuid(),
  name: Type.String(),
  location: Type.String(),
  purpose: Type.Optional(Type.String()),
  legalBasis: Type.Optional(Type.String()),
  threshold: Type.Number(),
  model: Type.String(),
  status: StringEnum(DEPLOYMENT_STATUSES),
  stopReason: Type.Optional(NullableEnum(STOP_REASONS)),
  authorisation: Type.Optional(
    Nullable(
      Type.Partial(
        Type.Object({
          id: Uuid(),
          status: StringEnum(AUTHORISATION_STATUSES),
          urgent: Type.Boolean(),
          requestedBy: NullableString(),
          requestedAt: DateTime(),
          decisionDueAt: NullableDateTime(),
          decidedBy: NullableString(),
          decidedAt: NullableDateTime(),
          rationale: Type.String(),
        }),
      ),
      { description: 'The newest request for authorisation (GET /deployments/{id}/authorisations for all)' },
    ),
  ),
  watchlistComposition: Type.Optional(
    Type.Unsafe<WatchlistComposition>({
      ...WatchlistComposition,
      description: "The snapshot's make-up at start; no names",
    }),
  ),
  purgedAt: Type.Optional(NullableDateTime()),
  startsAt: Type.Optional(NullableDateTime()),
  endsAt: Type.Optional(NullableDateTime()),
  startedAt: Type.Optional(NullableDateTime()),
  stoppedAt: Type.Optional(NullableDateTime()),
  snapshotDestroyAfter: Type.Optional(NullableDateTime()),
  snapshotDestroyedAt: Type.Optional(NullableDateTime()),
  createdBy: Type.Optional(NullableString()),
  createdAt: Type.Optional(DateTime()),
  watchlistIds: UuidList(),
  operatorIds: UuidList(),
});
export type Deployment = Static<typeof Deployment>;

export const DeploymentList = Type.Array(Deployment);

export const Camera = Type.Object({
  id: Uuid(),
  deploymentId: Uuid(),
  name: Type.String(),
  url: Type.String({ description: 'Any password in the URL is masked' }),
  fps: Type.Number(),
  realtime: Type.Boolean(),
  loop: Type.Boolean(),
  createdAt: Type.Optional(DateTime()),
});
export type Camera = Static<typeof Camera>;

export const CameraList = Type.Array(Camera);

/** One camera's health in a deployment's status. */
export const CameraHealth = Type.Object({
  id: Uuid(),
  name: Type.String(),
  status: StringEnum(['online', 'offline', 'starting', 'stopped']),
  fps: Type.Number(),
  framesTotal: Type.Optional(Type.Integer()),
  framesDropped: Type.Integer(),
  framesNotAnalysed: Type.Optional(
    AllCounts(NOT_ANALYSED_REASONS, {
      description:
        'Frames read and never analysed since ingest started the camera, by reason: queue_full (ingest fell behind), publish_failed (bus down), detector_busy (a detector dropped it), detector_unavailable (no detector took it)',
    }),
  ),
  restarts: Type.Optional(Type.Integer()),
  lastErrorCode: Type.Optional(NullableString()),
  lastFrameAt: Type.Optional(NullableDateTime()),
  analysedFps: Type.Number({
    description: 'Frames the detectors finished a second (`fps` is frames read a second)',
  }),
  state: StringEnum(['online', 'degraded', 'offline', 'starting', 'stopped'], {
    description:
      '`status` with analysis taken into account: `degraded` when frames are read but none analysed',
  }),
  reason: NullableString({
    description: "Why `state` is not online: `not_analysed`, `no_status`, or ingest's last error code",
  }),
  missingStage: NullableEnum(['ingest', 'detector'], {
    description: 'The pipeline stage that is missing: `detector` (read, not analysed) or `ingest` (not read)',
  }),
});
export type CameraHealth = Static<typeof CameraHealth>;

export const DeploymentStatus = Type.Object({
  deploymentId: Uuid(),
  status: StringEnum(DEPLOYMENT_STATUSES),
  threshold: Type.Number(),
  model: Type.Optional(Type.String()),
  startedAt: Type.Optional(NullableDateTime()),
  stoppedAt: Type.Optional(NullableDateTime()),
  snapshot: Type.Object({ subjects: Type.Integer(), entries: Type.Integer() }),
  facesProcessed: Type.Integer(),
  frames: Type.Optional(Type.Integer()),
  alerts: Type.Integer(),
  cameras: Type.Array(CameraHealth),
});
export type DeploymentStatus = Static<typeof DeploymentStatus>;

const deploymentFields = {
  name: NonBlank(200),
  location: Type.String({ maxLength: 500 }),
  purpose: Type.String({ maxLength: 4000 }),
  legalBasis: Type.String({ maxLength: 4000 }),
  threshold: Type.Number({ maximum: 1 }),
  startsAt: NullableDateTime(),
  endsAt: NullableDateTime(),
};

/** `POST /deployments`. */
export const DeploymentInput = Type.Object(
  {
    name: deploymentFields.name,
    location: Type.Optional(deploymentFields.location),
    purpose: Type.Optional(deploymentFields.purpose),
    legalBasis: Type.Optional(deploymentFields.legalBasis),
    threshold: deploymentFields.threshold,
    startsAt: Type.Optional(deploymentFields.startsAt),
    endsAt: Type.Optional(deploymentFields.endsAt),
    watchlistIds: UuidList(),
    operatorIds: Type.Optional(UuidList()),
  },
  { additionalProperties: false },
);
export type DeploymentInput = Static<typeof DeploymentInput>;

/** `PATCH /deployments/:id`: at least one field. */
export const DeploymentChanges = Type.Partial(Type.Object(deploymentFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type DeploymentChanges = Static<typeof DeploymentChanges>;

/** `PUT /deployments/:id/watchlists`. */
export const DeploymentWatchlistsBody = Type.Object(
  { watchlistIds: UuidList() },
  { additionalProperties: false },
);

/** `POST /deployments/:id/operators`. */
export const DeploymentOperatorsBody = Type.Object(
  { userIds: UuidList({ minItems: 1 }) },
  { additionalProperties: false },
);

/** `DELETE /deployments/:id/operators/:userId`. */
export const DeploymentOperatorParams = Type.Object({ id: Uuid(), userId: Uuid() });

/** `POST /deployments/:id/cameras`. */
export const CameraInput = Type.Object(
  {
    name: NonBlank(200),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    fps: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60 })),
    realtime: Type.Optional(Type.Boolean()),
    loop: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CameraInput = Static<typeof CameraInput>;
