/** The error body every route answers with, and the shapes many routes share. */
import { type Static, Type } from 'typebox';
import { StringEnum, Uuid } from './schema.js';
import { USER_ROLES } from './values.js';

/** One image of an enrolment that failed, and why. */
export const ImageFailure = Type.Object({
  index: Type.Integer(),
  filename: Type.Optional(Type.String()),
  code: Type.String(),
  message: Type.String(),
});
export type ImageFailure = Static<typeof ImageFailure>;

/** The contract's `{"error":{"code","message"}}`. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    images: Type.Optional(Type.Array(ImageFailure, { description: 'Enrolment: every image that failed' })),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;

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
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBody> {
  const out: Record<number, typeof ErrorBody> = {};
  for (const status of statuses)
    out[status] = Type.Object(ErrorBody.properties, {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    });
  return out;
}

/** The statuses every authenticated route can answer with. */
export const AUTH_ERRORS = [401, 403] as const;

/** `:id`, a uuid. */
export const UuidParams = Type.Object({ id: Uuid() });
export type UuidParams = Static<typeof UuidParams>;

export const Role = StringEnum(USER_ROLES);

/** The authenticated caller, as routes and the socket.io handshake see it. */
export const AuthUser = Type.Object({ id: Uuid(), username: Type.String(), role: Role });
export type AuthUser = Static<typeof AuthUser>;

/** A 204's empty body: `reply.status(204).send()`. */
export const NoContent = (description: string) => Type.Unsafe<undefined>({ type: 'null', description });
