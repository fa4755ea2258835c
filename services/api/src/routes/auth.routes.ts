import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  AuthUser,
  errorResponses,
  LoginBody,
  LoginResponse,
  NoContent,
  PasswordChangeBody,
} from '@vigil/contract';
import { VigilError } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import { AccountLockedError } from '../errors.js';

export interface AuthRoutesOptions {
  /** Login requests per minute per address before 429 `rate_limited`, on top of the lockout. */
  loginRateLimitPerMinute: number;
}

/** `POST /auth/login`, `POST /auth/logout`, `GET /auth/me`. */
export async function authRoutes(fastify: FastifyInstance, options: AuthRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
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
        body: LoginBody,
        response: {
          200: LoginResponse,
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
        response: { 204: NoContent('Revoked'), ...errorResponses(401) },
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

  app.post(
    '/auth/password',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password (every role); your other sessions end',
        body: PasswordChangeBody,
        response: {
          204: NoContent('Changed'),
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
        response: { 200: AuthUser, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async (request) => request.user!,
  );
}
