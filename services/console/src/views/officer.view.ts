import type { DispatchedAlert } from '@vigil/contract';
import { AlertFeed } from '../alerts.socket.js';
import { api, protectedImage } from '../api.client.js';
import { clear, h } from '../dom.js';
import type { View } from '../main.js';
import { playAlarm } from '../sound.js';
import { timeElement } from '../time.js';
import { enlargeOnClick } from './crop-viewer.js';
import { errorText, message, OUTCOME_LABELS, OUTCOMES } from './shared.js';

type OfficerAlert = DispatchedAlert;

/** For an officer's phone: the alerts passed to them, the camera's face beside the watchlist photo, and the outcome. */
export const officerView: View = (root) => {
  const list = h('ol', { id: 'officer-alerts', class: 'officer-list' });
  root.classList.add('narrow');
  root.append(h('h2', {}, 'Passed to me'), list);

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
    if (items.length === 0) list.append(message('Nothing passed to you yet.'));
    for (const item of items) {
      const photo = h('img', { class: 'reference', alt: `Watchlist photo of ${item.alert.label}` });
      if (item.alert.referenceImageUrl)
        protectedImage(item.alert.referenceImageUrl).then(
          (url) => {
            photo.src = url;
          },
          () => {},
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
      list.append(
        h(
          'li',
          {
            class: `officer-card priority-${item.alert.priority}`,
            'data-alert-id': item.alertId,
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
          h(
            'p',
            { class: 'muted' },
            'Seen ',
            timeElement(item.alert.capturedAt),
            ` · passed by ${item.dispatchedByName} `,
            timeElement(item.createdAt),
          ),
          item.note ? h('p', { class: 'note-text' }, item.note) : null,
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
        ),
      );
    }
    if (sound && items[0]?.alert.priority === 'red') playAlarm();
  }

  void refresh(false);
  // The officer's own room: a `dispatch` event arrives when something is passed to them.
  const feed = new AlertFeed(null, {
    alert: () => {},
    adjudication: () => void refresh(false),
    dispatch: () => void refresh(true),
    connection: () => {},
  });
  return () => {
    feed.close();
    root.classList.remove('narrow');
  };
};
