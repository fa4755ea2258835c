import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AuthService, type VerifiedToken } from '../auth/auth.service.js';
import type { AuthUser, UserRole } from '../auth/roles.js';
import { ForbiddenError } from '@vigil/core';
import { InvalidTokenError } from '../errors.js';

/** A preHandler hook as the auth plugin makes them. */
export type AuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Logins, tokens and users. */
    auth: AuthService;
    /** preHandler: 401 unless the request carries a valid bearer token; sets `request.user`. */
    authenticate: AuthHook;
    /** preHandler: 401 without a valid token, 403 unless the user has one of `roles`. */
    requireRoles(...roles: UserRole[]): AuthHook;
  }
  interface FastifyRequest {
    /** The authenticated caller; null before `authenticate` runs or on public routes. */
    user: AuthUser | null;
    /** The verified token's session, for logout. */
    session: VerifiedToken | null;
  }
}

/** The token in `Authorization: Bearer TOKEN`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export interface AuthPluginOptions {
  auth: AuthService;
}

/**
 * Decorates the app with `auth`, `authenticate` and `requireRoles(...)`. Routes opt in with
 * `preHandler: app.requireRoles('admin')`.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, options) => {
    app.decorate('auth', options.auth);
    app.decorateRequest('user', null);
    app.decorateRequest('session', null);

    const authenticate: AuthHook = async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new InvalidTokenError('unauthorized', 'a bearer token is required');
      const verified = await options.auth.verifyToken(token);
      request.user = verified.user;
      request.session = verified;
    };
    app.decorate('authenticate', authenticate);
    app.decorate('requireRoles', (...roles: UserRole[]): AuthHook => {
      const allowed = new Set<UserRole>(roles);
      return async (request, reply) => {
        if (!request.user) await authenticate(request, reply);
        if (!request.user || !allowed.has(request.user.role))
          throw new ForbiddenError(`this route needs one of the roles: ${roles.join(', ')}`);
      };
    });
  },
  { name: 'vigil-auth', dependencies: ['vigil-error-handler'] },
);
