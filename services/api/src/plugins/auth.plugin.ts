import { ForbiddenError } from '@vigil/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthService, VerifiedToken } from '../auth/auth.service.js';
import type { AuthUser, UserRole } from '../auth/roles.js';
import { InvalidTokenError } from '../errors.js';

/** Marks the hooks this plugin makes, so onRoute can find them. */
const AUTH_HOOK = Symbol('vigil-auth-hook');

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
    // Authentication runs at onRequest, before body and params validation, so a caller without a
    // valid token learns nothing from a 400 (and pays for no body parsing). Routes that put
    // `authenticate` or `requireRoles(...)` in preHandler get them moved to onRequest.
    app.addHook('onRoute', (route) => {
      const pre = route.preHandler;
      const list = (Array.isArray(pre) ? pre : pre ? [pre] : []) as object[];
      const auth = list.filter((hook) => typeof hook === 'function' && AUTH_HOOK in hook);
      if (auth.length === 0) return;
      route.preHandler = list.filter((hook) => !(auth as object[]).includes(hook)) as typeof route.preHandler;
      const on = route.onRequest;
      route.onRequest = [...auth, ...(Array.isArray(on) ? on : on ? [on] : [])] as typeof route.onRequest;
    });
    app.decorateRequest('user', null);
    app.decorateRequest('session', null);

    const authenticate: AuthHook = async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (!token) throw new InvalidTokenError('unauthorized', 'a bearer token is required');
      const verified = await options.auth.verifyToken(token);
      request.user = verified.user;
      request.session = verified;
    };
    Object.defineProperty(authenticate, AUTH_HOOK, { value: true });
    app.decorate('authenticate', authenticate);
    app.decorate('requireRoles', (...roles: UserRole[]): AuthHook => {
      const allowed = new Set<UserRole>(roles);
      const hook: AuthHook = async (request, reply) => {
        if (!request.user) await authenticate(request, reply);
        if (!request.user || !allowed.has(request.user.role))
          throw new ForbiddenError(`this route needs one of the roles: ${roles.join(', ')}`);
      };
      Object.defineProperty(hook, AUTH_HOOK, { value: true });
      return hook;
    });
  },
  { name: 'vigil-auth', dependencies: ['vigil-error-handler'] },
);
