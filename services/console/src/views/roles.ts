import { USER_ROLES } from '@vigil/contract/values';

export { USER_ROLES };

/** Each role in words, as the Users view and the header show it. */
const ROLE_NAMES: Record<string, string> = {
  admin: 'Administrator',
  watchlist_manager: 'Watchlist manager',
  operator: 'Operator',
  officer: 'Officer',
  oversight: 'Oversight',
  authoriser: 'Authorising officer',
};

export function roleName(role: string): string {
  return ROLE_NAMES[role] ?? role;
}

/** An API error in words: the server's message, first letter capitalised, ending with a full stop. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
