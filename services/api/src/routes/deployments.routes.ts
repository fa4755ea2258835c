import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  Camera,
  CameraInput,
  CameraList,
  Deployment,
  DeploymentChanges,
  DeploymentInput,
  DeploymentList,
  DeploymentOperatorParams,
  DeploymentOperatorsBody,
  DeploymentStatus,
  DeploymentWatchlistsBody,
  errorResponses,
  NoContent,
  UuidParams,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';
import type { DeploymentService } from '../deployments/deployment.service.js';

export interface DeploymentRoutesOptions {
  deployments: DeploymentService;
}

/** Deployments, their watchlists, operators and cameras; start, stop and status. */
export async function deploymentRoutes(
  fastify: FastifyInstance,
  options: DeploymentRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { deployments } = options;
  const admin = app.requireRoles('admin');
  const viewers = app.requireRoles('admin', 'operator', 'oversight', 'authoriser');

  app.post(
    '/deployments',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Create a deployment',
        description:
          'The threshold may not be below VIGIL_THRESHOLD_FLOOR (400 threshold_below_floor); the model is the loaded profile.',
        body: DeploymentInput,
        response: { 201: Deployment, ...errorResponses(400, ...AUTH_ERRORS) },
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
        response: { 200: DeploymentList, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => deployments.list(request.user!),
  );

  app.get(
    '/deployments/:id',
    {
      onRequest: viewers,
      schema: {
        tags: ['deployments'],
        summary: 'One deployment',
        params: UuidParams,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => deployments.get(request.user!, request.params.id),
  );

  app.patch(
    '/deployments/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: "Change a planned deployment's name, location, purpose, legal basis, window or threshold",
        description: 'A pending or granted authorisation is withdrawn: the changed terms need a new one.',
        params: UuidParams,
        body: DeploymentChanges,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.update(request.user!, request.params.id, request.body),
  );

  app.put(
    '/deployments/:id/watchlists',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: "Set a planned deployment's watchlists",
        description: 'A pending or granted authorisation is withdrawn: the changed list needs a new one.',
        params: UuidParams,
        body: DeploymentWatchlistsBody,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.setWatchlists(request.user!, request.params.id, request.body.watchlistIds),
  );

  app.post(
    '/deployments/:id/operators',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Assign operators, who receive the deployment’s alerts',
        params: UuidParams,
        body: DeploymentOperatorsBody,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => deployments.addOperators(request.user!, request.params.id, request.body.userIds),
  );

  app.delete(
    '/deployments/:id/operators/:userId',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Unassign an operator',
        params: DeploymentOperatorParams,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => {
      const { id, userId } = request.params;
      const deployment = await deployments.removeOperator(request.user!, id, userId);
      app.accessChanged({ deploymentId: id, userId });
      return deployment;
    },
  );

  app.post(
    '/deployments/:id/cameras',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Add a camera',
        description:
          'url: rtsp://, rtsps://, http(s):// or a local file path; anything else, a leading "-" or control characters is 400 invalid_camera_url. A file plays at real-time speed unless realtime is false.',
        params: UuidParams,
        body: CameraInput,
        response: { 201: Camera, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await deployments.addCamera(request.user!, request.params.id, request.body)),
  );

  app.get(
    '/deployments/:id/cameras',
    {
      onRequest: app.requireRoles('admin', 'operator'),
      schema: {
        tags: ['cameras'],
        summary: "A deployment's cameras",
        params: UuidParams,
        response: {
          200: CameraList,
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => deployments.cameras(request.user!, request.params.id),
  );

  app.delete(
    '/cameras/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Remove a camera',
        params: UuidParams,
        response: {
          204: NoContent('Removed'),
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      await deployments.deleteCamera(request.user!, request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/deployments/:id/start',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: 'Start: freeze the watchlist snapshot and open the cameras',
        description:
          'Only with a granted authorisation (or an urgent request awaiting its decision): 409 authorisation_required; and inside its window: 409 outside_authorised_window. The snapshot holds the entries the authorisation covers that are still approved and not past review.',
        params: UuidParams,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.start(request.user!, request.params.id),
  );

  app.post(
    '/deployments/:id/stop',
    {
      onRequest: admin,
      schema: {
        tags: ['deployments'],
        summary: "Stop: close the cameras and schedule the snapshot's destruction",
        params: UuidParams,
        response: { 200: Deployment, ...errorResponses(400, ...AUTH_ERRORS, 404, 409) },
      },
    },
    async (request) => deployments.stop(request.user!, request.params.id),
  );

  app.get(
    '/deployments/:id/status',
    {
      onRequest: app.requireRoles('admin', 'operator'),
      schema: {
        tags: ['deployments'],
        summary: 'Cameras online/offline with fps and drops, faces processed, alerts, snapshot size',
        params: UuidParams,
        response: { 200: DeploymentStatus, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => deployments.status(request.user!, request.params.id),
  );
}
