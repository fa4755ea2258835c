import type { DispatchPayload } from '../alerts.socket.js';
import { h } from '../dom.js';
import { timeElement } from '../time.js';

/** How far an officer has got: 0 passed, 1 acknowledged, 2 en route. */
export function stage(dispatch: Pick<DispatchPayload, 'acknowledgedAt' | 'enRouteAt'>): number {
  return dispatch.enRouteAt ? 2 : dispatch.acknowledgedAt ? 1 : 0;
}

/** "Acknowledged by X 2 min ago · En route just now", each time relative; `who` names the officer or not. */
export function progressParts(dispatch: DispatchPayload, who: boolean): (string | HTMLElement)[] {
  const parts: (string | HTMLElement)[] = [];
  if (dispatch.acknowledgedAt)
    parts.push(
      who ? `Acknowledged by ${dispatch.officerName} ` : 'Acknowledged ',
      timeElement(dispatch.acknowledgedAt),
    );
  if (dispatch.enRouteAt) parts.push(' · En route ', timeElement(dispatch.enRouteAt));
  return parts;
}

/**
 * On an operator's alert card: each officer the alert was passed to and how far they have got, kept
 * up to date by the `dispatch` events the server sends again as each officer acknowledges and sets off.
 */
export class DispatchLines {
  readonly element = h('div', { class: 'dispatches', 'aria-live': 'polite' });

  constructor(dispatches: DispatchPayload[] = []) {
    for (const dispatch of dispatches) this.update(dispatch);
  }

  update(dispatch: DispatchPayload): void {
    const existing = this.element.querySelector<HTMLElement>(`[data-dispatch-id="${dispatch.id}"]`);
    // Events may cross on the way: an older step never replaces a later one.
    if (existing && Number(existing.dataset.stage) > stage(dispatch)) return;
    const line = h(
      'p',
      { class: 'dispatch-progress', 'data-dispatch-id': dispatch.id, 'data-stage': String(stage(dispatch)) },
      `Passed to ${dispatch.officerName} `,
      timeElement(dispatch.createdAt),
      dispatch.acknowledgedAt ? ' · ' : ' · not acknowledged yet',
      ...progressParts(dispatch, true),
    );
    if (existing) existing.replaceWith(line);
    else this.element.append(line);
  }
}
