import type { ClaimPayload } from '../alerts.socket.js';
import { ApiError, api } from '../api.client.js';
import { h } from '../dom.js';
import { errorText } from './shared.js';

/**
 * "Take it" on an alert card: tells the other operators who is handling the person, so two operators
 * do not act on the same alert. The card carries `data-claimed-by` (a username) while someone holds it.
 */
export class ClaimControl {
  readonly element: HTMLElement;
  readonly #text = h('span', { class: 'claim-text' });
  readonly #button = h('button', { type: 'button', class: 'small claim-button' });
  #claim: ClaimPayload | null;

  constructor(
    private readonly alertId: string,
    private readonly card: HTMLElement,
    private readonly me: { id: string; username: string },
    claim: ClaimPayload | null,
    private readonly changed: () => void,
  ) {
    this.#claim = claim;
    this.element = h('p', { class: 'claim' }, this.#text, ' ', this.#button);
    this.#button.addEventListener('click', () => void this.#toggle());
    this.#render();
  }

  /** A claim or release by anyone, from the socket or an answer. */
  update(claim: ClaimPayload): void {
    this.#claim = claim.userId ? claim : null;
    this.#render();
  }

  async #toggle(): Promise<void> {
    const mine = this.#claim?.userId === this.me.id;
    const status = this.card.querySelector<HTMLElement>('.action-status');
    try {
      this.update(
        await api<ClaimPayload>(`/alerts/${this.alertId}/claim`, { method: mine ? 'DELETE' : 'POST' }),
      );
      if (status) status.textContent = '';
    } catch (error) {
      if (status)
        status.textContent =
          error instanceof ApiError && error.code === 'alert_claimed'
            ? `${error.message.charAt(0).toUpperCase()}${error.message.slice(1)}.`
            : errorText(error);
    }
  }

  #render(): void {
    const holder = this.#claim?.username ?? null;
    const mine = this.#claim?.userId === this.me.id;
    if (holder) this.card.dataset.claimedBy = holder;
    else delete this.card.dataset.claimedBy;
    this.card.classList.toggle('claimed-by-me', mine);
    this.card.classList.toggle('claimed-by-other', Boolean(holder) && !mine);
    this.#text.textContent = mine
      ? 'You are handling this alert.'
      : holder
        ? `${holder} is handling this alert.`
        : 'Nobody is handling this alert yet.';
    this.#button.textContent = mine ? 'Give it back' : 'Take it';
    this.#button.disabled = Boolean(holder) && !mine;
    this.changed();
  }
}
