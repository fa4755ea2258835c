import type { Deployment } from '@vigil/contract';
import { api } from '../api.client.js';
import { h } from '../dom.js';
import {
  AUTHORISATION_STATUS_TEXT,
  type Authorisation,
  type Composition,
  compositionView,
  decisionView,
} from './authorisation.js';
import { errorText } from './shared.js';

/** What the Deployments view shows of a deployment's authorisation (issue 24). */
export type LawfulDeployment = Pick<
  Deployment,
  | 'id'
  | 'status'
  | 'location'
  | 'purpose'
  | 'legalBasis'
  | 'startsAt'
  | 'endsAt'
  | 'stopReason'
  | 'purgedAt'
  | 'watchlistComposition'
  | 'authorisation'
>;

type Act = (path: string, init: { method: string; body?: unknown }, done: string) => Promise<void>;

/** A `datetime-local` value (local time) as ISO 8601, or null when empty. */
function isoOf(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

/** ISO 8601 as a `datetime-local` value in local time. */
function localOf(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** Purpose, legal basis and window inputs; `prefix` keeps ids apart between the create and edit forms. */
export function termsFields(prefix: string, current: Partial<LawfulDeployment> = {}) {
  const purpose = h('textarea', { id: `${prefix}-purpose`, rows: 2, maxlength: 4000 }, current.purpose ?? '');
  const legalBasis = h('input', {
    id: `${prefix}-legal-basis`,
    maxlength: 4000,
    value: current.legalBasis ?? '',
    placeholder: 'e.g. common law policing powers; DPA 2018 s.35',
  });
  const startsAt = h('input', {
    id: `${prefix}-starts-at`,
    type: 'datetime-local',
    value: localOf(current.startsAt),
  });
  const endsAt = h('input', {
    id: `${prefix}-ends-at`,
    type: 'datetime-local',
    value: localOf(current.endsAt),
  });
  return {
    elements: [
      h('label', { for: `${prefix}-purpose` }, 'Purpose'),
      purpose,
      h('label', { for: `${prefix}-legal-basis` }, 'Legal basis'),
      legalBasis,
      h('div', { class: 'row dates' }, h('label', {}, 'From ', startsAt), h('label', {}, 'Until ', endsAt)),
    ],
    values: () => ({
      purpose: purpose.value,
      legalBasis: legalBasis.value,
      startsAt: isoOf(startsAt.value),
      endsAt: isoOf(endsAt.value),
    }),
  };
}

/**
 * The authorisation panel of an open deployment: its terms (editable while planned), the newest
 * request and its decision, the button that asks (urgent or not), and the watchlist's make-up: at
 * request time (what the authoriser approves, with how many are left out and why) and at start.
 */
export function authorisationPanel(deployment: LawfulDeployment, act: Act): HTMLElement {
  const id = deployment.id;
  const latest = h('div', { id: 'authorisation-latest' });
  const panel = h(
    'section',
    { class: 'authorisation-panel', id: 'deployment-authorisation', 'aria-label': 'Authorisation' },
    h('h4', {}, 'Authorisation'),
    h(
      'p',
      { id: 'authorisation-status', 'data-status': deployment.authorisation?.status ?? 'none' },
      deployment.authorisation?.status
        ? AUTHORISATION_STATUS_TEXT[deployment.authorisation.status]
        : 'Not asked for: an authorising officer must grant this deployment before it starts.',
    ),
    latest,
  );
  if (deployment.stopReason && deployment.stopReason !== 'manual')
    panel.append(
      h(
        'p',
        { class: 'warning', id: 'stop-reason' },
        deployment.stopReason === 'window_ended'
          ? 'Stopped by itself at the end of its authorised window.'
          : `Stopped because the authorisation was ${deployment.stopReason === 'authorisation_refused' ? 'refused' : 'not given in time'}; its snapshot, alerts and face crops were deleted${deployment.purgedAt ? ` on ${new Date(deployment.purgedAt).toLocaleString()}` : ''}.`,
      ),
    );
  if (deployment.watchlistComposition)
    panel.append(
      h('h5', {}, 'Watchlist at start'),
      compositionView(deployment.watchlistComposition, 'deployment-composition'),
    );
  api<Authorisation[]>(`/deployments/${id}/authorisations`).then(
    ([newest]) => {
      if (!newest) return;
      latest.append(
        decisionView(newest),
        h('h5', {}, 'Watchlist as asked for'),
        compositionView(newest.composition, 'request-composition'),
      );
    },
    (error) => latest.append(h('p', { class: 'error' }, errorText(error))),
  );
  if (deployment.status !== 'planned') return panel;

  const terms = termsFields('terms', deployment);
  const location = h('input', { id: 'terms-location', maxlength: 500, value: deployment.location });
  const termsForm = h(
    'form',
    { id: 'deployment-terms' },
    h('label', { for: 'terms-location' }, 'Location'),
    location,
    ...terms.elements,
    h('button', { type: 'submit' }, 'Save terms'),
  );
  termsForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(
      `/deployments/${id}`,
      { method: 'PATCH', body: { ...terms.values(), location: location.value } },
      'Terms saved. A request already made for the old terms is withdrawn.',
    );
  });
  const open =
    deployment.authorisation?.status === 'pending' || deployment.authorisation?.status === 'granted';
  const urgent = h('input', { id: 'request-urgent', type: 'checkbox' });
  const request = h(
    'div',
    { class: 'toolbar' },
    h(
      'button',
      {
        type: 'button',
        id: 'request-authorisation',
        disabled: open,
        onclick: () =>
          void act(
            `/deployments/${id}/authorisation`,
            { method: 'POST', body: { urgent: urgent.checked } },
            urgent.checked
              ? 'Urgent authorisation asked for: the deployment may start now; it stops and its data is deleted if no decision comes in time.'
              : 'Authorisation asked for.',
          ),
      },
      'Ask for authorisation',
    ),
    h('label', { class: 'check' }, urgent, ' Urgent: start before the decision'),
  );
  panel.append(h('details', { open: !open }, h('summary', {}, 'Terms'), termsForm), request);
  return panel;
}
