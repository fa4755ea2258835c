import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken } from './auth.plugin.js';

/** The realm named in the Bearer challenge (RFC 6750 section 3). */
const REALM = 'vigil';

/** Whether `url` is under the API prefix, whose answers carry tokens, crops and subject data. */
function isApiUrl(url: string): boolean {
  return url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?');
}

/** RFC 6750's challenge: no error code when the request carried no token, `invalid_token` when it did. */
function bearerChallenge(request: FastifyRequest): string {
  return bearerToken(request.headers.authorization)
    ? `Bearer realm="${REALM}", error="invalid_token"`
    : `Bearer realm="${REALM}"`;
}

/**
 * Headers no route should have to remember: `Cache-Control: no-store` on every `/api/v1` answer
 * unless its route sets its own (tokens, face crops and subject data must not sit in a browser's or
 * a proxy's cache), and `WWW-Authenticate: Bearer` on every 401. The console's assets and the
 * OpenAPI document are outside the prefix and may be cached.
 */
export const responseHeadersPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode === 401 && !reply.hasHeader('www-authenticate'))
        reply.header('www-authenticate', bearerChallenge(request));
      if (isApiUrl(request.url) && !reply.hasHeader('cache-control'))
        reply.header('cache-control', 'no-store');
      return payload;
    });
  },
  { name: 'vigil-response-headers' },
);
