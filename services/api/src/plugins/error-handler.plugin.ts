import { isVigilError } from '@vigil/core';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Maps every error to the contract's `{"error":{"code","message"}}`: VigilErrors keep their code and
 * status, fastify's validation errors become 400 `invalid_request`, and 5xx messages are not leaked.
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    // PostgreSQL cannot store a NUL character in text: refused here, for every route, as bad input
    // rather than left to fail as a database error (a 500).
    app.addHook('preValidation', async (request, reply) => {
      if (containsNul(request.body)) {
        return reply.status(400).send({
          error: { code: 'invalid_request', message: 'text may not contain a NUL character (\\u0000)' },
        });
      }
    });
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (isVigilError(error)) {
        const details = (error as { details?: Record<string, unknown> }).details;
        return reply
          .status(error.status)
          .send({ error: { ...details, code: error.code, message: error.message } });
      }
      if (error.validation) {
        return reply.status(400).send({ error: { code: 'invalid_request', message: error.message } });
      }
      const status = error.statusCode ?? 500;
      if (status < 500) {
        const code = error.code ? error.code.replace(/^FST_(ERR_)?/, '').toLowerCase() : 'bad_request';
        return reply
          .status(status)
          .send({ error: { code: normaliseCode(code, status), message: error.message } });
      }
      request.log.error(
        { err: { type: error.name, message: error.message, stack: error.stack } },
        'request failed',
      );
      return reply.status(500).send({ error: { code: 'internal_error', message: 'internal error' } });
    });
    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send({
        error: {
          code: 'not_found',
          message: `route ${request.method} ${request.url.split('?')[0]} not found`,
        },
      });
    });
  },
  { name: 'vigil-error-handler' },
);

function normaliseCode(code: string, status: number): string {
  if (status === 413) return 'payload_too_large';
  if (status === 415) return 'unsupported_media_type';
  if (status === 429) return 'rate_limited';
  return code.replace(/[^a-z0-9_]/g, '_');
}

/** Whether any string in a parsed JSON body (or its keys) holds a NUL character. */
function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((item) => containsNul(item, depth + 1));
  if (Buffer.isBuffer(value)) return false;
  return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item, depth + 1));
}
