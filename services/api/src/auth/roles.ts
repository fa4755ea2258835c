/** The four roles of the contract. */
export const USER_ROLES = ['admin', 'watchlist_manager', 'operator', 'oversight'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The authenticated caller, as routes and the socket.io handshake see it. */
export interface AuthUser {
  id: string;
  username: string;
  role: UserRole;
}
