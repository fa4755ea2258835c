import { api } from '../api.client.js';
import { clear, h } from '../dom.js';
import type { View } from '../main.js';
import {
  AUTHORISATION_STATUS_TEXT,
  type Authorisation,
  compositionView,
  decisionView,
  termsView,
} from './authorisation.js';
import { errorText, message } from './shared.js';

/**
 * Authorising officers: the requests awaiting a decision, each with its terms and the watchlist's
 * make-up (how many are left out and why), granted or refused with reasons. Oversight and admins
 * read the same list without the buttons.
 */
export const authorisationsView: View = (root, session) => {
  const decides = session.user.role === 'authoriser';
  const feedback = h('p', { class: 'action-status', role: 'status', id: 'authorisation-feedback' });
  const pending = h('section', { id: 'pending-authorisations', 'aria-label': 'Awaiting a decision' });
  const decided = h('section', { id: 'decided-authorisations', 'aria-label': 'Decided' });
  root.append(
    h('h2', {}, 'Authorisations'),
    feedback,
    h('h3', {}, decides ? 'Awaiting your decision' : 'Awaiting a decision'),
    pending,
    h('h3', {}, 'Decided'),
    decided,
  );

  function card(authorisation: Authorisation): HTMLElement {
    const rationale = h('textarea', {
      id: `rationale-${authorisation.id}`,
      rows: 3,
      maxlength: 4000,
      required: true,
    });
    const decide = (decision: 'granted' | 'refused') => {
      if (!rationale.value.trim()) {
        feedback.textContent = 'Give your reasons before deciding.';
        rationale.focus();
        return;
      }
      api<Authorisation>(`/authorisations/${authorisation.id}/decision`, {
        method: 'POST',
        body: { decision, rationale: rationale.value },
      }).then(
        (done) => {
          feedback.textContent = `${AUTHORISATION_STATUS_TEXT[done.status]}: ${done.deploymentName}.`;
          void refresh();
        },
        (error) => {
          feedback.textContent = errorText(error);
        },
      );
    };
    return h(
      'article',
      {
        class: `card authorisation status-${authorisation.status}`,
        'data-authorisation-id': authorisation.id,
      },
      h(
        'h4',
        {},
        authorisation.deploymentName,
        ' ',
        h('span', { class: `badge status-${authorisation.status}` }, authorisation.status),
        authorisation.urgent ? h('span', { class: 'badge urgent' }, 'urgent') : null,
      ),
      decisionView(authorisation),
      termsView(authorisation),
      h('h5', {}, 'Watchlist for approval'),
      compositionView(authorisation.composition),
      decides && authorisation.status === 'pending'
        ? h(
            'div',
            { class: 'decide' },
            h('label', { for: `rationale-${authorisation.id}` }, 'Your reasons (necessity, proportionality)'),
            rationale,
            h(
              'div',
              { class: 'toolbar' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'primary',
                  'data-decision': 'granted',
                  onclick: () => decide('granted'),
                },
                'Grant',
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger',
                  'data-decision': 'refused',
                  onclick: () => decide('refused'),
                },
                'Refuse',
              ),
            ),
          )
        : null,
    );
  }

  async function refresh(): Promise<void> {
    let all: Authorisation[];
    try {
      all = await api<Authorisation[]>('/authorisations');
    } catch (error) {
      clear(pending);
      pending.append(message(errorText(error), 'error'));
      return;
    }
    clear(pending);
    clear(decided);
    const waiting = all.filter((a) => a.status === 'pending');
    pending.append(...(waiting.length > 0 ? waiting.map(card) : [message('Nothing awaits a decision.')]));
    const done = all.filter((a) => a.status !== 'pending').slice(0, 50);
    decided.append(...(done.length > 0 ? done.map(card) : [message('No decisions yet.')]));
  }

  void refresh();
  return undefined;
};
