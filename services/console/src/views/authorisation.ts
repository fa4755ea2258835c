import type { Authorisation, ExclusionReason, WatchlistComposition } from '@vigil/contract';
import { formatTime, h } from '../dom.js';

/** A watchlist's make-up and one request for authorisation, as the API sends them. */
export type { Authorisation } from '@vigil/contract';
/** A watchlist's make-up, as an authorisation or a started deployment records it. */
export type Composition = NonNullable<WatchlistComposition>;

/** Each status in words, for the people who read them. */
export const AUTHORISATION_STATUS_TEXT: Record<Authorisation['status'], string> = {
  pending: 'Awaiting the authorising officer',
  granted: 'Authorised',
  refused: 'Refused',
  lapsed: 'Lapsed: no decision by the urgent deadline',
  withdrawn: 'Withdrawn: the terms changed after the request',
  migrated: 'Running before authorisation was recorded',
};

/** Why entries are left out of a snapshot, in words. */
const EXCLUSION_TEXT: Record<ExclusionReason, string> = {
  notApproved: 'not approved by a second person',
  reviewOverdue: 'past their review date',
  notAuthorised: 'added after the authorisation was asked for',
};

function counts(values: Partial<Record<string, number>> = {}): string {
  return Object.entries(values)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([key, n]) => `${key} ${n}`)
    .join(' · ');
}

/** The make-up as a short list: numbers only, never a name. */
export function compositionView(
  composition: Composition | Record<string, never> | null,
  id?: string,
): HTMLElement {
  if (!composition || !('subjects' in composition))
    return h('p', { class: 'muted', id }, 'No watchlist make-up recorded.');
  const left = Object.entries(composition.excluded ?? {}).filter(([, n]) => (n ?? 0) > 0) as [
    ExclusionReason,
    number,
  ][];
  return h(
    'dl',
    { class: 'composition', id },
    h('dt', {}, 'People on the list'),
    h('dd', { 'data-count': 'subjects' }, String(composition.subjects)),
    h('dt', {}, 'By category'),
    h('dd', {}, counts(composition.byCategory) || 'none'),
    h('dt', {}, 'By priority'),
    h('dd', {}, counts(composition.byPriority) || 'none'),
    h('dt', {}, 'Left out'),
    h(
      'dd',
      { class: left.length > 0 ? 'exclusions warning' : 'exclusions', 'data-count': 'excluded' },
      left.length > 0 ? left.map(([reason, n]) => `${n} ${EXCLUSION_TEXT[reason]}`).join('; ') : 'none',
    ),
  );
}

/** The terms an authorisation is asked and given for. */
export function termsView(
  terms: Pick<Authorisation, 'purpose' | 'legalBasis' | 'location' | 'startsAt' | 'endsAt' | 'threshold'>,
): HTMLElement {
  const window =
    terms.startsAt && terms.endsAt
      ? `${formatTime(terms.startsAt)} to ${formatTime(terms.endsAt)}`
      : 'not set';
  return h(
    'dl',
    { class: 'terms' },
    h('dt', {}, 'Purpose'),
    h('dd', {}, terms.purpose || 'not set'),
    h('dt', {}, 'Legal basis'),
    h('dd', {}, terms.legalBasis || 'not set'),
    h('dt', {}, 'Location'),
    h('dd', {}, terms.location || 'not set'),
    h('dt', {}, 'Window'),
    h('dd', {}, window),
    h('dt', {}, 'Threshold'),
    h('dd', {}, String(terms.threshold)),
  );
}

/** Who asked, when, and (urgent) the deadline; who decided, when and why. */
export function decisionView(authorisation: Authorisation): HTMLElement {
  return h(
    'div',
    { class: 'decision' },
    h(
      'p',
      { class: 'muted' },
      `Asked by ${authorisation.requestedByName ?? 'a former user'} on ${formatTime(authorisation.requestedAt)}`,
      authorisation.urgent ? ' · urgent' : '',
    ),
    authorisation.status === 'pending' && authorisation.decisionDueAt
      ? h(
          'p',
          { class: 'warning', 'data-deadline': authorisation.decisionDueAt },
          `Started urgently: without a decision by ${formatTime(authorisation.decisionDueAt)} it stops and its snapshot, alerts and face crops are deleted.`,
        )
      : null,
    authorisation.decidedAt && authorisation.status !== 'pending'
      ? h(
          'p',
          {},
          `${AUTHORISATION_STATUS_TEXT[authorisation.status]}${
            authorisation.decidedByName ? ` by ${authorisation.decidedByName}` : ''
          } on ${formatTime(authorisation.decidedAt)}`,
          authorisation.rationale ? `: “${authorisation.rationale}”` : '',
        )
      : null,
  );
}
