/** JSON schemas shared by every route: the contract's error body and common shapes. */
import { USER_ROLES } from '../auth/roles.js';

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        images: {
          type: 'array',
          description: 'Enrolment: every image that failed',
          items: {
            type: 'object',
            properties: {
              index: { type: 'integer' },
              filename: { type: 'string' },
              code: { type: 'string' },
              message: { type: 'string' },
            },
            required: ['index', 'code', 'message'],
          },
        },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request',
  401: 'No valid token',
  403: 'This role may not do that',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported content type',
  422: 'Unusable input',
  429: 'Too many requests',
};

/** Error responses for the given statuses, for a route's `response` schema. */
export function errorResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const status of statuses)
    out[status] = { description: ERROR_DESCRIPTIONS[status] ?? 'Error', ...errorSchema };
  return out;
}

/** The statuses every authenticated route can answer with. */
export const AUTH_ERRORS = [401, 403] as const;

export const uuidParams = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' } },
  required: ['id'],
} as const;

export const roleSchema = {
  type: 'string',
  enum: [...USER_ROLES],
} as const;

export const authUserSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    username: { type: 'string' },
    role: roleSchema,
  },
  required: ['id', 'username', 'role'],
} as const;
