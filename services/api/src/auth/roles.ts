/**
 * The four roles of the contract and `authoriser`: the authorising officer who grants or refuses a
 * deployment (issue 24), kept apart from admin so that the one who asks cannot also grant.
 */
export const USER_ROLES = ['admin', 'watchlist_manager', 'operator', 'oversight', 'authoriser'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The authenticated caller, as routes and the socket.io handshake see it. */
export interface AuthUser {
  id: string;
  username: string;
  role: UserRole;
}
