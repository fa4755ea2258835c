import type { FastifyInstance } from 'fastify';
import type { UserRole } from '../auth/roles.js';
import { AUTH_ERRORS, errorResponses, roleSchema, uuidParams } from './schemas.js';

const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    username: { type: 'string' },
    role: roleSchema,
    disabled: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'username', 'role', 'disabled', 'createdAt'],
} as const;

/** User administration: admins only. */
export async function usersRoutes(app: FastifyInstance): Promise<void> {
  const adminOnly = app.requireRoles('admin');

  app.post<{ Body: { username: string; password: string; role: UserRole } }>(
    '/users',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['users'],
        summary: 'Create a user',
        body: {
          type: 'object',
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 256 },
            role: roleSchema,
          },
          required: ['username', 'password', 'role'],
          additionalProperties: false,
        },
        response: { 201: userSchema, ...errorResponses(400, ...AUTH_ERRORS, 409) },
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
        response: { 200: { type: 'array', items: userSchema }, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => app.auth.listUsers(),
  );

  app.patch<{ Params: { id: string }; Body: { role?: UserRole; disabled?: boolean; password?: string } }>(
    '/users/:id',
    {
      onRequest: adminOnly,
      schema: {
        tags: ['users'],
        summary: "Change a user's role, disable or enable them, or set a new password",
        params: uuidParams,
        body: {
          type: 'object',
          properties: {
            role: roleSchema,
            disabled: { type: 'boolean' },
            password: { type: 'string', minLength: 1, maxLength: 256 },
          },
          additionalProperties: false,
          minProperties: 1,
        },
        response: { 200: userSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => {
      const updated = await app.auth.updateUser(request.user!, request.params.id, request.body);
      app.accessChanged({ userId: updated.id });
      return updated;
    },
  );
}
