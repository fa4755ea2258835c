/**
 * The contract's error body and common shapes under the names the route files have used; each route
 * file moves to importing `@vigil/contract` directly as it is converted.
 */
export {
  AUTH_ERRORS,
  AuthUser as authUserSchema,
  ErrorBody as errorSchema,
  errorResponses,
  Role as roleSchema,
  UuidParams as uuidParams,
} from '@vigil/contract';
