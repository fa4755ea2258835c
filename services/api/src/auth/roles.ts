/**
 * The four roles of the contract, `authoriser`: the authorising officer who grants or refuses a
 * deployment (issue 24), kept apart from admin so that the one who asks cannot also grant, and
 * `officer`: an officer on the ground who receives the alerts an operator passes to them (issue 23).
 */
export const USER_ROLES = [
  'admin',
  'watchlist_manager',
  'operator',
  'oversight',
  'authoriser',
  'officer',
] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The authenticated caller, as routes and the socket.io handshake see it. */
export interface AuthUser {
  id: string;
  username: string;
  role: UserRole;
}
