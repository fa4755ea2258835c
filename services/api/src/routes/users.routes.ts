import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  errorResponses,
  User,
  UserChanges,
  UserInput,
  UserList,
  UuidParams,
} from '@vigil/contract';
import type { FastifyInstance } from 'fastify';

/** User administration: admins only. */
export async function usersRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const adminOnly = app.requireRoles('admin');

  app.post(
    '/users',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: UserInput,
        response: { 201: User, ...errorResponses(400, ...AUTH_ERRORS, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await app.auth.createUser(request.user!, request.body)),
  );

  app.get(
    '/users',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['users'],
        summary: 'List users',
        response: { 200: UserList, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => app.auth.listUsers(),
  );

  app.patch(
    '/users/:id',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['users'],
        summary: "Change a user's role, disable or enable them, or set a new password",
        params: UuidParams,
        body: UserChanges,
        response: { 200: User, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => {
      const updated = await app.auth.updateUser(request.user!, request.params.id, request.body);
      app.accessChanged({ userId: updated.id });
      return updated;
    },
  );
}
