export { type AppDependencies, buildApp, CONSOLE_DIST } from './app.js';
export {
  AuthService,
  type AuthOptions,
  type LoginResult,
  type PublicUser,
  type VerifiedToken,
} from './auth/auth.service.js';
export { type AuthUser, USER_ROLES, type UserRole } from './auth/roles.js';
export { type AuthHook, bearerToken } from './plugins/auth.plugin.js';
export * from './errors.js';
export { AUTH_ERRORS, errorResponses, errorSchema, uuidParams } from './routes/schemas.js';
