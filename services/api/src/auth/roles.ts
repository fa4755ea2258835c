/** The roles and the authenticated caller, as the contract defines them. */
export { type AuthUser, USER_ROLES, type UserRole } from '@vigil/contract';
