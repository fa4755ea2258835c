import type { DispatchedAlert } from '@vigil/contract';
import { AlertFeed, type DispatchPayload, type PurgedPayload } from '../alerts.socket.js';
import { api, protectedImage } from '../api.client.js';
import { clear, h } from '../dom.js';
import type { View } from '../main.js';
import { playAlarm } from '../sound.js';
import { refreshTimes, timeElement } from '../time.js';
import { enlargeOnClick, sceneButton } from './crop-viewer.js';
import { progressParts, stage } from './dispatch-progress.js';
import { errorText, message, OUTCOME_LABELS, OUTCOMES } from './shared.js';

type OfficerAlert = DispatchedAlert;

/** Relative times on the phone are brought up to date this often. */
const TIME_REFRESH_MS = 30_000;

/** For an officer's phone: the alerts passed to them, the camera's face beside the watchlist photo, and the outcome. */
export const officerView: View = (root) => {
  const list = h('ol', { id: 'officer-alerts', class: 'officer-list' });
  /** Says why alerts went when the server deleted a deployment's alerts. */
  const purgedNotice = h('p', { id: 'purged-notice', class: 'error', role: 'alert', hidden: true });
  /** The cards shown, by dispatch id. */
  const shown = new Map<string, { item: OfficerAlert; card: HTMLElement }>();
  root.classList.add('narrow');
  root.append(h('h2', {}, 'Passed to me'), purgedNotice, list);

  /** Acknowledge, then En route: one big button for the next step, and what was done when. */
  function progress(item: OfficerAlert): HTMLElement {
    const status = h('p', { class: 'step-status', role: 'status' });
    // Once an outcome is recorded the person has been dealt with: no step is left to take.
    const next =
      item.enRouteAt || item.outcome
        ? null
        : item.acknowledgedAt
          ? { path: 'en-route', step: 'en_route', label: 'En route' }
          : { path: 'acknowledge', step: 'acknowledged', label: 'Acknowledge' };
    return h(
      'div',
      {
        class: 'progress',
        'data-stage': item.enRouteAt ? 'en_route' : item.acknowledgedAt ? 'acknowledged' : 'passed',
      },
      h(
        'p',
        { class: 'progress-text' },
        ...(item.acknowledgedAt ? progressParts(item, false) : item.outcome ? [] : ['Not acknowledged yet']),
      ),
      next
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary step-button',
              'data-step': next.step,
              onclick: () =>
                void api<DispatchPayload>(`/dispatches/${item.id}/${next.path}`, { method: 'POST' }).then(
                  showProgress,
                  (error) => {
                    status.textContent = errorText(error);
                  },
                ),
            },
            next.label,
          )
        : null,
      status,
    );
  }

  /** A step recorded here or (from the socket) on another of the officer's devices. */
  function showProgress(dispatch: DispatchPayload): void {
    const entry = shown.get(dispatch.id);
    // The answer and the socket's copy of a step may cross: an older step never replaces a later one.
    if (!entry || stage(dispatch) < stage(entry.item)) return;
    entry.item = { ...entry.item, acknowledgedAt: dispatch.acknowledgedAt, enRouteAt: dispatch.enRouteAt };
    entry.card.querySelector('.progress')?.replaceWith(progress(entry.item));
  }

  function officerCard(item: OfficerAlert): HTMLElement {
    const photo = h('img', { class: 'reference', alt: `Watchlist photo of ${item.alert.label}` });
    if (item.alert.referenceImageUrl)
      protectedImage(item.alert.referenceImageUrl).then(
        (url) => {
          photo.src = url;
        },
        () => photo.replaceWith(h('div', { class: 'reference missing' }, 'photo unavailable')),
      );
    const faces = h(
      'div',
      { class: 'faces' },
      h(
        'figure',
        {},
        item.alert.probeImage
          ? h('img', { class: 'probe', src: item.alert.probeImage, alt: 'Face seen by the camera' })
          : h('div', { class: 'probe missing' }, 'no crop'),
        h('figcaption', {}, 'Camera'),
      ),
      h('figure', {}, photo, h('figcaption', {}, 'Watchlist')),
    );
    enlargeOnClick(faces, `${item.alert.label}: the camera's face beside the watchlist photo`);
    return h(
      'li',
      {
        class: `officer-card priority-${item.alert.priority}`,
        'data-alert-id': item.alertId,
        'data-dispatch-id': item.id,
        tabindex: '0',
      },
      faces,
      h(
        'h3',
        {},
        h('span', { class: `priority-tag ${item.alert.priority}` }, item.alert.priority.toUpperCase()),
        ` ${item.alert.label}`,
      ),
      h('p', { class: 'description' }, item.description || item.alert.category),
      h('p', {}, `${item.alert.cameraName ?? 'camera'} · ${item.location || item.deploymentName}`),
      sceneButton(item.alertId, item.alert.label),
      h(
        'p',
        { class: 'muted' },
        'Seen ',
        timeElement(item.alert.capturedAt),
        ` · passed by ${item.dispatchedByName} `,
        timeElement(item.createdAt),
      ),
      item.note ? h('p', { class: 'note-text' }, item.note) : null,
      progress(item),
      h(
        'p',
        { class: 'outcome' },
        item.outcome
          ? `${OUTCOME_LABELS[item.outcome.outcome]} — ${item.outcome.username}`
          : 'No outcome yet',
      ),
      h(
        'div',
        { class: 'outcomes big' },
        OUTCOMES.map((outcome) =>
          h(
            'button',
            {
              type: 'button',
              'data-outcome': outcome,
              onclick: () =>
                void api(`/alerts/${item.alertId}/adjudication`, {
                  method: 'POST',
                  body: { outcome },
                }).then(
                  () => refresh(false),
                  (error) => list.prepend(message(errorText(error), 'error')),
                ),
            },
            OUTCOME_LABELS[outcome],
          ),
        ),
      ),
    );
  }

  async function refresh(sound: boolean): Promise<void> {
    let items: OfficerAlert[];
    try {
      items = await api<OfficerAlert[]>('/dispatches/mine?limit=20');
    } catch (error) {
      clear(list);
      list.append(message(errorText(error), 'error'));
      return;
    }
    clear(list);
    shown.clear();
    if (items.length === 0) list.append(message('Nothing passed to you yet.'));
    for (const item of items) {
      const card = officerCard(item);
      shown.set(item.id, { item, card });
      list.append(card);
    }
    if (sound && items[0]?.alert.priority === 'red') playAlarm();
  }

  /** A deployment's alerts were deleted on the server: its cards go, and the officer is told why. */
  function dropPurged(purged: PurgedPayload): void {
    let dropped = 0;
    for (const [id, { item, card }] of shown)
      if (item.alert.deploymentId === purged.deploymentId) {
        card.remove();
        shown.delete(id);
        dropped++;
      }
    if (dropped === 0) return;
    const why =
      purged.reason === 'authorisation_refused'
        ? 'The authorising officer refused a deployment.'
        : 'No authorising officer decided on an urgent deployment in time.';
    purgedNotice.textContent = `${why} Its alerts have been deleted and can no longer be acted on.`;
    purgedNotice.hidden = false;
    if (shown.size === 0) list.append(message('Nothing passed to you yet.'));
  }

  void refresh(false);
  const times = setInterval(() => refreshTimes(list), TIME_REFRESH_MS);
  // The officer's own room: a `dispatch` event arrives when something is passed to them, and again
  // when they acknowledge it or set off (perhaps from another device).
  const feed = new AlertFeed(null, {
    alert: () => {},
    adjudication: () => void refresh(false),
    dispatch: (dispatch) => (shown.has(dispatch.id) ? showProgress(dispatch) : void refresh(true)),
    purged: dropPurged,
    connection: () => {},
  });
  return () => {
    feed.close();
    clearInterval(times);
    root.classList.remove('narrow');
  };
};
