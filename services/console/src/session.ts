import type { AuthUser } from '@vigil/contract';

/** The logged-in user, kept in sessionStorage: closing the tab logs out. */
export type SessionUser = AuthUser;

const KEY = 'vigil.session';

export interface Session {
  token: string;
  user: SessionUser;
}

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}
