import { NOT_ANALYSED_REASONS } from '@vigil/ingest';
import type { FastifyInstance } from 'fastify';
import type { CameraInput, DeploymentInput, DeploymentService } from '../deployments/deployment.service.js';
import { compositionSchema } from './authorisations.routes.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

export interface DeploymentRoutesOptions {
  deployments: DeploymentService;
}

const nullableDate = { type: ['string', 'null'], format: 'date-time' } as const;
const uuidList = { type: 'array', items: { type: 'string', format: 'uuid' }, maxItems: 1000 } as const;

const deploymentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    location: { type: 'string' },
    purpose: { type: 'string' },
    legalBasis: { type: 'string' },
    threshold: { type: 'number' },
    model: { type: 'string' },
    status: { type: 'string', enum: ['planned', 'running', 'stopped'] },
    stopReason: {
      type: ['string', 'null'],
      enum: ['manual', 'window_ended', 'authorisation_refused', 'authorisation_lapsed', null],
    },
    authorisation: {
      type: ['object', 'null'],
      description: 'The newest request for authorisation (GET /deployments/{id}/authorisations for all)',
      properties: {
        id: { type: 'string', format: 'uuid' },
        status: { type: 'string' },
        urgent: { type: 'boolean' },
        requestedBy: { type: ['string', 'null'] },
        requestedAt: { type: 'string', format: 'date-time' },
        decisionDueAt: nullableDate,
        decidedBy: { type: ['string', 'null'] },
        decidedAt: nullableDate,
        rationale: { type: 'string' },
      },
    },
    watchlistComposition: { ...compositionSchema, description: "The snapshot's make-up at start; no names" },
    purgedAt: nullableDate,
    startsAt: nullableDate,
    endsAt: nullableDate,
    startedAt: nullableDate,
    stoppedAt: nullableDate,
    snapshotDestroyAfter: nullableDate,
    snapshotDestroyedAt: nullableDate,
    createdBy: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    watchlistIds: uuidList,
    operatorIds: uuidList,
  },
  required: ['id', 'name', 'location', 'threshold', 'model', 'status', 'watchlistIds', 'operatorIds'],
} as const;

const cameraSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    deploymentId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    url: { type: 'string', description: 'Any password in the URL is masked' },
    fps: { type: 'number' },
    realtime: { type: 'boolean' },
    loop: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'deploymentId', 'name', 'url', 'fps', 'realtime', 'loop'],
} as const;

const statusSchema = {
  type: 'object',
  properties: {
    deploymentId: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['planned', 'running', 'stopped'] },
    threshold: { type: 'number' },
    model: { type: 'string' },
    startedAt: nullableDate,
    stoppedAt: nullableDate,
    snapshot: {
      type: 'object',
      properties: { subjects: { type: 'integer' }, entries: { type: 'integer' } },
      required: ['subjects', 'entries'],
    },
    facesProcessed: { type: 'integer' },
    frames: { type: 'integer' },
    alerts: { type: 'integer' },
    cameras: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          name: { type: 'string' },
          status: { type: 'string', enum: ['online', 'offline', 'starting', 'stopped'] },
          fps: { type: 'number' },
          framesTotal: { type: 'integer' },
          framesDropped: { type: 'integer' },
          framesNotAnalysed: {
            type: 'object',
            description:
              'Frames read and never analysed since ingest started the camera, by reason: queue_full (ingest fell behind), publish_failed (bus down), detector_busy (a detector dropped it), detector_unavailable (no detector took it)',
            properties: Object.fromEntries(NOT_ANALYSED_REASONS.map((r) => [r, { type: 'integer' }])),
            required: [...NOT_ANALYSED_REASONS],
          },
          restarts: { type: 'integer' },
          lastErrorCode: { type: ['string', 'null'] },
          lastFrameAt: nullableDate,
          analysedFps: {
            type: 'number',
            description: 'Frames the detectors finished a second (`fps` is frames read a second)',
          },
          state: {
            type: 'string',
            enum: ['online', 'degraded', 'offline', 'starting', 'stopped'],
            description:
              '`status` with analysis taken into account: `degraded` when frames are read but none analysed',
          },
          reason: {
            type: ['string', 'null'],
            description:
              "Why `state` is not online: `not_analysed`, `no_status`, or ingest's last error code",
          },
          missingStage: {
            type: ['string', 'null'],
            enum: ['ingest', 'detector', null],
            description:
              'The pipeline stage that is missing: `detector` (read, not analysed) or `ingest` (not read)',
          },
        },
        required: [
          'id',
          'name',
          'status',
          'fps',
          'framesDropped',
          'analysedFps',
          'state',
          'reason',
          'missingStage',
        ],
      },
    },
  },
  required: ['deploymentId', 'status', 'threshold', 'snapshot', 'facesProcessed', 'alerts', 'cameras'],
} as const;

const text200 = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' } as const;
const deploymentFields = {
  name: text200,
  location: { type: 'string', maxLength: 500 },
  purpose: { type: 'string', maxLength: 4000 },
  legalBasis: { type: 'string', maxLength: 4000 },
  threshold: { type: 'number', maximum: 1 },
  startsAt: nullableDate,
  endsAt: nullableDate,
} as const;

/** Deployments, their watchlists, operators and cameras; start, stop and status. */
export async function deploymentRoutes(
  app: FastifyInstance,
  options: DeploymentRoutesOptions,
): Promise<void> {
  const { deployments } = options;
  const admin = app.requireRoles('admin');
  const viewers = app.requireRoles('admin', 'operator', 'oversight', 'authoriser');

  app.post<{ Body: DeploymentInput }>(
    '/deployments',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Create a deployment',
        description:
          'The threshold may not be below VIGIL_THRESHOLD_FLOOR (400 threshold_below_floor); the model is the loaded profile.',
        body: {
          type: 'object',
          properties: { ...deploymentFields, watchlistIds: uuidList, operatorIds: uuidList },
          required: ['name', 'threshold', 'watchlistIds'],
          additionalProperties: false,
        },
        response: { 201: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => reply.status(201).send(await deployments.create(request.user!, request.body)),
  );

  app.get(
    '/deployments',
    {
      onRequest: viewers,
      schema: {
        tags: ['deployments'],
        summary: 'Deployments (operators: those assigned to them)',
        response: { 200: { type: 'array', items: deploymentSchema }, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => deployments.list(request.user!),
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id',
    {
      onRequest: viewers,
      schema: {
        tags: ['deployments'],
        summary: 'One deployment',
        params: uuidParams,
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => deployments.get(request.user!, request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: Partial<DeploymentInput> }>(
    '/deployments/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: "Change a planned deployment's name, location, purpose, legal basis, window or threshold",
        description: 'A pending or granted authorisation is withdrawn: the changed terms need a new one.',
        params: uuidParams,
        body: { type: 'object', properties: deploymentFields, additionalProperties: false, minProperties: 1 },
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.update(request.user!, request.params.id, request.body),
  );

  app.put<{ Params: { id: string }; Body: { watchlistIds: string[] } }>(
    '/deployments/:id/watchlists',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: "Set a planned deployment's watchlists",
        description: 'A pending or granted authorisation is withdrawn: the changed list needs a new one.',
        params: uuidParams,
        body: {
          type: 'object',
          properties: { watchlistIds: uuidList },
          required: ['watchlistIds'],
          additionalProperties: false,
        },
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.setWatchlists(request.user!, request.params.id, request.body.watchlistIds),
  );

  app.post<{ Params: { id: string }; Body: { userIds: string[] } }>(
    '/deployments/:id/operators',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Assign operators, who receive the deployment’s alerts',
        params: uuidParams,
        body: {
          type: 'object',
          properties: { userIds: { ...uuidList, minItems: 1 } },
          required: ['userIds'],
          additionalProperties: false,
        },
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => deployments.addOperators(request.user!, request.params.id, request.body.userIds),
  );

  app.delete<{ Params: { id: string; userId: string } }>(
    '/deployments/:id/operators/:userId',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Unassign an operator',
        params: {
          type: 'object',
          properties: { id: { type: 'string', format: 'uuid' }, userId: { type: 'string', format: 'uuid' } },
          required: ['id', 'userId'],
        },
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => {
      const { id, userId } = request.params;
      const deployment = await deployments.removeOperator(request.user!, id, userId);
      app.accessChanged({ deploymentId: id, userId });
      return deployment;
    },
  );

  app.post<{ Params: { id: string }; Body: CameraInput }>(
    '/deployments/:id/cameras',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Add a camera',
        description:
          'url: rtsp://, rtsps://, http(s):// or a local file path; anything else, a leading "-" or control characters is 400 invalid_camera_url. A file plays at real-time speed unless realtime is false.',
        params: uuidParams,
        body: {
          type: 'object',
          properties: {
            name: text200,
            url: { type: 'string', minLength: 1, maxLength: 2048 },
            fps: { type: 'number', exclusiveMinimum: 0, maximum: 60 },
            realtime: { type: 'boolean' },
            loop: { type: 'boolean' },
          },
          required: ['name', 'url'],
          additionalProperties: false,
        },
        response: { 201: cameraSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await deployments.addCamera(request.user!, request.params.id, request.body)),
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/cameras',
    {
      onRequest: app.requireRoles('admin', 'operator'),
      schema: {
        tags: ['cameras'],
        summary: "A deployment's cameras",
        params: uuidParams,
        response: {
          200: { type: 'array', items: cameraSchema },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => deployments.cameras(request.user!, request.params.id),
  );

  app.delete<{ Params: { id: string } }>(
    '/cameras/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Remove a camera',
        params: uuidParams,
        response: {
          204: { type: 'null', description: 'Removed' },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      await deployments.deleteCamera(request.user!, request.params.id);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { id: string } }>(
    '/deployments/:id/start',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Start: freeze the watchlist snapshot and open the cameras',
        description:
          'Only with a granted authorisation (or an urgent request awaiting its decision): 409 authorisation_required; and inside its window: 409 outside_authorised_window. The snapshot holds the entries the authorisation covers that are still approved and not past review.',
        params: uuidParams,
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.start(request.user!, request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/deployments/:id/stop',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: "Stop: close the cameras and schedule the snapshot's destruction",
        params: uuidParams,
        response: { 200: deploymentSchema, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.stop(request.user!, request.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/deployments/:id/status',
    {
      onRequest: app.requireRoles('admin', 'operator'),
      schema: {
        tags: ['deployments'],
        summary: 'Cameras online/offline with fps and drops, faces processed, alerts, snapshot size',
        params: uuidParams,
        response: { 200: statusSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => deployments.status(request.user!, request.params.id),
  );
}
