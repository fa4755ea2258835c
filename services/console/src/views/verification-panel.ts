import type { OfficerList, VerificationPolicy, VerificationState, VerificationStates } from '@vigil/contract';
import { api } from '../api.client.js';
import { formatTime, h } from '../dom.js';
import { errorText } from './shared.js';

/** One alert's two-person verification, as `GET /deployments/:id/verifications` and the socket give it. */
export type { VerificationState };

/**
 * What the operator reads on a card: who has confirmed, and who is still awaited (the deployment's
 * other operators, when known).
 */
export function verificationText(state: VerificationState | undefined, operators: string[] = []): string {
  const who = (state?.confirmations ?? []).map((c) => `${c.username} (${formatTime(c.createdAt)})`);
  if (!state || who.length === 0) return 'Needs two operators to confirm before anyone acts. Nobody has yet.';
  if (state.actionable) return `Verified by ${who.join(' and ')}: may be acted on.`;
  const confirmed = new Set(state.confirmations.map((c) => c.username));
  const others = operators.filter((name) => !confirmed.has(name));
  const awaited = others.length > 0 ? ` (${others.join(' or ')})` : '';
  return `Confirmed by ${who.join(', ')}. Waiting for a second operator${awaited} to confirm before anyone acts.`;
}

/**
 * The operator view's part of two-person verification: whether the open deployment requires it,
 * each card's line saying who has confirmed and who is awaited, and a confirmation sent as a
 * verification instead of an outcome.
 */
export class VerificationPanel {
  readonly #states = new Map<string, VerificationState>();
  #required = false;
  /** The deployment's operators, who may give the awaited confirmation. */
  #operators: string[] = [];

  constructor(
    private readonly deploymentId: string,
    private readonly cardOf: (alertId: string) => HTMLElement | undefined,
  ) {}

  /** True when the deployment requires two different operators to confirm an alert. */
  get required(): boolean {
    return this.#required;
  }

  /** Reads the rule and the newest alerts' states, and redraws the cards it knows. */
  async refresh(): Promise<void> {
    const result = await api<VerificationStates>(`/deployments/${this.deploymentId}/verifications`);
    this.#required = result.required;
    if (this.#required && this.#operators.length === 0)
      this.#operators = (
        await api<OfficerList>(`/deployments/${this.deploymentId}/officers`).catch(() => [])
      ).map((o) => o.username);
    for (const state of result.alerts) this.update(state);
  }

  /** The badge beside the deployment picker. */
  badge(): HTMLElement {
    return h(
      'span',
      { id: 'two-person-badge', class: 'badge', hidden: !this.#required },
      'Two-person verification',
    );
  }

  /** The line a new card carries (empty and hidden where verification is not required). */
  line(alertId: string): HTMLElement {
    const state = this.#states.get(alertId);
    const element = h(
      'p',
      {
        class: `verification${state?.actionable ? ' verified' : ''}`,
        'data-waiting-for': String(state?.waitingFor ?? 2),
        hidden: !this.#required,
        role: 'status',
      },
      this.#required ? verificationText(state, this.#operators) : '',
    );
    return element;
  }

  /** Records the caller's confirmation; the card says what it now waits for, or why it was refused. */
  async confirm(alertId: string, note: string, status: HTMLElement | null): Promise<boolean> {
    try {
      const state = await api<VerificationState>(`/alerts/${alertId}/verifications`, {
        method: 'POST',
        body: note ? { note } : {},
      });
      this.update(state);
      return true;
    } catch (error) {
      if (status) status.textContent = errorText(error);
      return false;
    }
  }

  /** Redraws the alert's line: from the caller's own confirmation, or another operator's sent live. */
  update(state: VerificationState): void {
    // Confirmations only accumulate: a state that arrives after a fuller one is stale.
    const held = this.#states.get(state.alertId);
    if (held && held.confirmations.length > state.confirmations.length) return;
    this.#states.set(state.alertId, state);
    const card = this.cardOf(state.alertId);
    const current = card?.querySelector('.verification');
    if (current) current.replaceWith(this.line(state.alertId));
    if (card) card.dataset.verified = String(state.actionable);
  }
}

/**
 * The administrator's switch for the rule on one deployment (Deployments view): on until the
 * deployment ends, off only before it starts, as the API allows.
 */
export function verificationSetting(deployment: { id: string; status: string }): HTMLElement {
  const box = h('input', { type: 'checkbox', id: 'two-person-setting', disabled: true });
  const note = h('span', { class: 'muted', id: 'two-person-note', role: 'status' });
  const explain = (required: boolean) => {
    box.disabled = deployment.status === 'stopped' || (required && deployment.status !== 'planned');
    note.textContent = required
      ? deployment.status === 'planned'
        ? ' Alerts need two different operators to confirm them before anyone acts.'
        : ' On for this deployment: it can only be turned off before a deployment starts.'
      : deployment.status === 'stopped'
        ? ' Not used by this deployment.'
        : ' Off: one operator confirms an alert.';
  };
  api<VerificationPolicy>(`/deployments/${deployment.id}/verification`).then(
    (policy) => {
      box.checked = policy.required;
      explain(policy.required);
    },
    (error) => {
      note.textContent = errorText(error);
    },
  );
  box.addEventListener('change', () => {
    const wanted = box.checked;
    api<VerificationPolicy>(`/deployments/${deployment.id}/verification`, {
      method: 'PUT',
      body: { required: wanted },
    }).then(
      (policy) => explain(policy.required),
      (error) => {
        box.checked = !wanted;
        note.textContent = errorText(error);
      },
    );
  });
  return h(
    'div',
    { class: 'two-person-setting' },
    h('label', { class: 'check', for: 'two-person-setting' }, box, ' Two-person verification'),
    note,
  );
}
