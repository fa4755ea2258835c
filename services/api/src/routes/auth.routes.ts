import { VigilError } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import { AccountLockedError } from '../errors.js';
import { AUTH_ERRORS, authUserSchema, errorResponses } from './schemas.js';

export interface AuthRoutesOptions {
  /** Login requests per minute per address before 429 `rate_limited`, on top of the lockout. */
  loginRateLimitPerMinute: number;
}

/** `POST /auth/login`, `POST /auth/logout`, `GET /auth/me`. */
export async function authRoutes(app: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  app.post<{ Body: { username: string; password: string } }>(
    '/auth/login',
    {
      config: {
        rateLimit: {
          max: options.loginRateLimitPerMinute,
          timeWindow: 60_000,
          errorResponseBuilder: () => new VigilError('rate_limited', 'too many login attempts', 429),
        },
      },
      schema: {
        tags: ['auth'],
        summary: 'Log in: a username and password for a bearer token',
        security: [],
        body: {
          type: 'object',
          properties: {
            username: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', minLength: 1, maxLength: 256 },
          },
          required: ['username', 'password'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              user: authUserSchema,
            },
            required: ['token', 'expiresAt', 'user'],
          },
          ...errorResponses(400, 401, 429),
        },
      },
    },
    async (request, reply) => {
      try {
        return await app.auth.login(request.body.username, request.body.password, request.ip);
      } catch (error) {
        if (error instanceof AccountLockedError) reply.header('retry-after', String(error.retryAfterSeconds));
        throw error;
      }
    },
  );

  app.post(
    '/auth/logout',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Revoke the calling token',
        response: { 204: { type: 'null', description: 'Revoked' }, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      if (request.session) {
        await app.auth.logout(request.session);
        app.accessChanged({ userId: request.session.user.id });
      }
      return reply.status(204).send();
    },
  );

  app.post<{ Body: { currentPassword: string; newPassword: string } }>(
    '/auth/password',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password (every role); your other sessions end',
        body: {
          type: 'object',
          properties: {
            currentPassword: { type: 'string', minLength: 1, maxLength: 256 },
            newPassword: { type: 'string', minLength: 1, maxLength: 256 },
          },
          required: ['currentPassword', 'newPassword'],
          additionalProperties: false,
        },
        response: {
          204: { type: 'null', description: 'Changed' },
          ...errorResponses(400, ...AUTH_ERRORS, 429),
        },
      },
    },
    async (request, reply) => {
      try {
        await app.auth.changeOwnPassword(request.session!, request.body, request.ip);
        // The other sessions ended: their sockets disconnect.
        app.accessChanged({ userId: request.session!.user.id });
      } catch (error) {
        if (error instanceof AccountLockedError) reply.header('retry-after', String(error.retryAfterSeconds));
        throw error;
      }
      return reply.status(204).send();
    },
  );

  app.get(
    '/auth/me',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Who the calling token belongs to',
        response: { 200: authUserSchema, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => request.user!,
  );
}
