import type { AlertPage, ListedAlert, OfficerList } from '@vigil/contract';
import {
  type AdjudicationPayload,
  AlertFeed,
  type AlertPayload,
  type PurgedPayload,
} from '../alerts.socket.js';
import { api, protectedImage } from '../api.client.js';
import { clear, formatTime, h } from '../dom.js';
import type { View } from '../main.js';
import { playAlarm } from '../sound.js';
import { refreshTimes, timeElement } from '../time.js';
import { ClaimControl } from './alert-claim.js';
import { AlertFilters } from './alert-filters.js';
import { enlargeOnClick, sceneButton } from './crop-viewer.js';
import { DispatchLines } from './dispatch-progress.js';
import { LiveViews } from './live-views.js';
import {
  type DeploymentStatus,
  deploymentPicker,
  errorText,
  listDeployments,
  message,
  OUTCOME_LABELS,
  OUTCOMES,
  type Outcome,
} from './shared.js';
import { VerificationPanel } from './verification-panel.js';

/** An alert in the feed: from the listing, or live over socket.io (which sends no createdAt). */
type FeedAlert = Omit<ListedAlert, 'createdAt'>;

/** Camera health is polled this often; alerts themselves arrive over socket.io. */
const STATUS_POLL_MS = 5000;

const scoreText = (alert: Pick<AlertPayload, 'score' | 'threshold'>) =>
  `${alert.score.toFixed(3)} (threshold ${alert.threshold.toFixed(3)})`;

/** Live alert feed of one deployment: probe beside reference, one-click outcomes, camera health. */
export const operatorView: View = (root, session) => {
  let feed: AlertFeed | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  const cameraNames = new Map<string, string>();
  const cards = new Map<string, HTMLElement>();
  const connection = h('span', { id: 'connection', class: 'badge', 'aria-live': 'polite' }, 'connecting…');
  const health = h('section', { id: 'camera-health', 'aria-label': 'Camera health' });
  const list = h('ol', {
    id: 'alert-feed',
    class: 'alert-feed',
    'aria-live': 'polite',
    'aria-label': 'Alerts',
  });
  const toolbar = h('div', { class: 'toolbar' });
  const filters = new AlertFilters(list, session.user.username);
  const claimControls = new Map<string, ClaimControl>();
  const dispatchLines = new Map<string, DispatchLines>();
  const help = h(
    'p',
    { class: 'muted shortcuts' },
    'Keys: j / k or ↓ / ↑ move between alerts; ',
    OUTCOMES.map((o, i) => `${i + 1} ${OUTCOME_LABELS[o]}`).join(', '),
    '.',
  );
  /** Says why the cards went when the server deleted the deployment's alerts. */
  const purgedNotice = h('p', { id: 'purged-notice', class: 'error', role: 'alert', hidden: true });
  const liveViews = new LiveViews();
  root.append(
    h('h2', {}, 'Operator'),
    toolbar,
    health,
    liveViews.section,
    help,
    purgedNotice,
    filters.empty,
    list,
  );
  let officers: { id: string; username: string }[] = [];
  let verification: VerificationPanel | undefined;

  const stop = () => {
    feed?.close();
    feed = undefined;
    liveViews.reset();
    if (poll) clearInterval(poll);
  };

  async function refreshStatus(deploymentId: string): Promise<void> {
    try {
      const status = await api<DeploymentStatus>(`/deployments/${deploymentId}/status`);
      const online = status.cameras.filter((camera) => camera.status === 'online').length;
      filters.watching =
        status.status === 'running'
          ? `Vigil is watching ${status.cameras.length} camera${status.cameras.length === 1 ? '' : 's'} (${online} online) and has looked at ${status.facesProcessed} faces.`
          : `This deployment is ${status.status}: no camera is being watched.`;
      filters.apply();
      refreshTimes(list);
      clear(health);
      health.append(
        h(
          'div',
          { class: 'stats-line' },
          h('span', {}, `Deployment ${status.status}`),
          h('span', {}, `threshold ${status.threshold}`),
          h('span', {}, `faces processed ${status.facesProcessed}`),
          h('span', {}, `alerts ${status.alerts}`),
        ),
        h(
          'ul',
          { class: 'cameras' },
          status.cameras.map((camera) => {
            cameraNames.set(camera.id, camera.name);
            return h(
              'li',
              { class: `camera camera-${camera.status}`, 'data-camera': camera.id },
              h('strong', {}, camera.name),
              ` ${camera.status}`,
              ` · ${camera.fps.toFixed(1)} fps · ${camera.framesDropped} dropped`,
              camera.lastErrorCode ? ` · ${camera.lastErrorCode}` : '',
              ' ',
              liveViews.button(camera.id, camera.name),
            );
          }),
        ),
      );
    } catch (error) {
      clear(health);
      health.append(message(`Camera status unavailable: ${errorText(error)}`, 'error'));
    }
  }

  function outcomeLine(adjudications: AdjudicationPayload[]): HTMLElement {
    const last = adjudications[adjudications.length - 1];
    return h(
      'p',
      { class: 'outcome' },
      last
        ? `${OUTCOME_LABELS[last.outcome]} — ${last.username}, ${formatTime(last.createdAt)}${last.note ? `: ${last.note}` : ''}`
        : 'No outcome yet',
    );
  }

  function record(alert: FeedAlert, outcome: Outcome, card: HTMLElement): void {
    const noteInput = card.querySelector<HTMLInputElement>('input.note');
    const note = noteInput?.value ?? '';
    const status = card.querySelector<HTMLElement>('.action-status');
    // On a two-person deployment a confirmation is one operator's verification, not yet an outcome.
    if (outcome === 'confirmed' && verification?.required) {
      void verification.confirm(alert.id, note, status).then((done) => {
        if (done && noteInput && noteInput.value === note) noteInput.value = '';
      });
      return;
    }
    api<AdjudicationPayload>(`/alerts/${alert.id}/adjudication`, {
      method: 'POST',
      body: note ? { outcome, note } : { outcome },
    }).then(
      (adjudication) => {
        // The note belongs to this outcome: a later outcome of the same alert starts without it.
        if (noteInput && noteInput.value === note) noteInput.value = '';
        showAdjudication(adjudication);
      },
      (error) => {
        if (status) status.textContent = errorText(error);
      },
    );
  }

  /** The deployment's alerts were deleted on the server: its cards go, and the operator is told why. */
  function showPurged(purged: PurgedPayload): void {
    cards.clear();
    claimControls.clear();
    dispatchLines.clear();
    clear(list);
    const why =
      purged.reason === 'authorisation_refused'
        ? 'The authorising officer refused this deployment.'
        : 'No authorising officer decided on this urgent deployment by its deadline, so it was stopped.';
    purgedNotice.textContent = `${why} Its alerts and face images have been deleted and can no longer be shown or acted on.`;
    purgedNotice.hidden = false;
    filters.apply();
  }

  /**
   * A better view of the alert's track replaced its crop on the server: the card shows the new one,
   * fetched through the alert list, which audits the view like any other.
   */
  async function refreshCrop(deploymentId: string, alertId: string): Promise<void> {
    const card = cards.get(alertId);
    const probe = card?.querySelector<HTMLImageElement>('img.probe');
    if (!card || !probe) return;
    const page = await api<AlertPage>(
      `/deployments/${deploymentId}/alerts?limit=1&includeProbe=true&before=${BigInt(alertId) + BigInt(1)}`,
    );
    const alert = page.alerts[0];
    if (alert?.id !== alertId || !alert.probeImage) return;
    probe.src = alert.probeImage;
    card.dataset.cropUpgraded = 'true';
    // The alert keeps the higher of its views' scores.
    const score = card.querySelector('.score');
    if (score) score.textContent = scoreText(alert);
    const caption = probe.closest('figure')?.querySelector('figcaption');
    if (caption) caption.textContent = 'Camera (clearer view)';
  }

  function showAdjudication(adjudication: AdjudicationPayload): void {
    const card = cards.get(adjudication.alertId);
    if (!card) return;
    const existing = JSON.parse(card.dataset.adjudications ?? '[]') as AdjudicationPayload[];
    if (existing.some((a) => a.id === adjudication.id)) return;
    existing.push(adjudication);
    card.dataset.adjudications = JSON.stringify(existing);
    card.dataset.outcome = adjudication.outcome;
    card.querySelector('.outcome')?.replaceWith(outcomeLine(existing));
    filters.apply();
  }

  function alertCard(alert: FeedAlert): HTMLElement {
    const reference = h('img', { class: 'reference', alt: `Watchlist photo of ${alert.label}` });
    if (alert.referenceImageUrl)
      protectedImage(alert.referenceImageUrl).then(
        (url) => {
          reference.src = url;
        },
        () => reference.replaceWith(h('div', { class: 'reference missing' }, 'reference unavailable')),
      );
    const camera = alert.cameraName ?? cameraNames.get(alert.cameraId) ?? alert.cameraId.slice(0, 8);
    const officerSelect = h(
      'select',
      { class: 'officer', 'aria-label': 'Officer' },
      h('option', { value: '' }, 'Pass to officer…'),
      officers.map((o) => h('option', { value: o.id }, o.username)),
    );
    const faces = h(
      'div',
      { class: 'faces' },
      h(
        'figure',
        {},
        alert.probeImage
          ? h('img', { class: 'probe', src: alert.probeImage, alt: 'Face seen by the camera' })
          : h('div', { class: 'probe missing' }, 'no crop'),
        h('figcaption', {}, 'Camera'),
      ),
      h('figure', {}, reference, h('figcaption', {}, 'Watchlist')),
    );
    enlargeOnClick(faces, `${alert.label}: the camera's face beside the watchlist photo`);
    const card = h(
      'li',
      {
        class: `alert-card priority-${alert.priority}`,
        tabindex: '0',
        'data-alert-id': alert.id,
        'aria-label': `${alert.priority} alert: ${alert.label}, score ${alert.score.toFixed(3)}, ${camera}`,
      },
      faces,
      h(
        'div',
        { class: 'details' },
        h(
          'h3',
          {},
          h('span', { class: `priority-tag ${alert.priority}` }, alert.priority.toUpperCase()),
          ` ${alert.label}`,
        ),
        h(
          'dl',
          {},
          h('dt', {}, 'Category'),
          h('dd', {}, alert.category),
          h('dt', {}, 'Score'),
          h('dd', { class: 'score' }, scoreText(alert)),
          h('dt', {}, 'Camera'),
          h('dd', {}, camera),
          h('dt', {}, 'Seen'),
          h('dd', {}, timeElement(alert.capturedAt)),
        ),
        sceneButton(alert.id, alert.label),
        outcomeLine(alert.adjudications),
        verification?.line(alert.id),
        h('input', {
          class: 'note',
          type: 'text',
          placeholder: 'Note (optional)',
          'aria-label': 'Note',
          maxlength: 2000,
        }),
        h(
          'div',
          { class: 'outcomes', role: 'group', 'aria-label': 'Record outcome' },
          OUTCOMES.map((outcome, index) =>
            h(
              'button',
              {
                type: 'button',
                class: `outcome-button outcome-${outcome}`,
                'data-outcome': outcome,
                'aria-keyshortcuts': String(index + 1),
                onclick: () => record(alert, outcome, card),
              },
              h('kbd', {}, String(index + 1)),
              ` ${OUTCOME_LABELS[outcome]}`,
            ),
          ),
        ),
        h(
          'div',
          { class: 'dispatch' },
          officerSelect,
          h(
            'button',
            {
              type: 'button',
              class: 'dispatch-button',
              onclick: () => {
                const status = card.querySelector<HTMLElement>('.action-status');
                if (!officerSelect.value) return;
                api(`/alerts/${alert.id}/dispatch`, {
                  method: 'POST',
                  body: {
                    officerId: officerSelect.value,
                    note: card.querySelector<HTMLInputElement>('input.note')?.value ?? '',
                  },
                }).then(
                  () => {
                    if (status) status.textContent = 'Passed to the officer.';
                  },
                  (error) => {
                    if (status) status.textContent = errorText(error);
                  },
                );
              },
            },
            'Send',
          ),
        ),
        h('p', { class: 'action-status', role: 'status' }),
      ),
    );
    const claim = new ClaimControl(alert.id, card, session.user, alert.claim ?? null, () => filters.apply());
    claimControls.set(alert.id, claim);
    card.querySelector('.outcome')?.after(claim.element);
    const dispatches = new DispatchLines(alert.dispatches);
    dispatchLines.set(alert.id, dispatches);
    card.querySelector('.dispatch')?.after(dispatches.element);
    card.dataset.adjudications = JSON.stringify(alert.adjudications);
    if (alert.adjudications.length > 0)
      card.dataset.outcome = alert.adjudications[alert.adjudications.length - 1]!.outcome;
    return card;
  }

  function addAlert(alert: FeedAlert, live: boolean): void {
    if (cards.has(alert.id)) return;
    const card = alertCard(alert);
    cards.set(alert.id, card);
    // Newest first by id, whatever order they arrive in.
    const after = [...list.children].find(
      (child) => BigInt((child as HTMLElement).dataset.alertId ?? '0') < BigInt(alert.id),
    );
    list.insertBefore(card, after ?? null);
    filters.apply();
    if (live) {
      card.classList.add('fresh');
      if (alert.priority === 'red') playAlarm();
    }
  }

  root.addEventListener('keydown', (event) => {
    const target = event.target as HTMLElement;
    if (target.closest('input, select, textarea')) return;
    const current = target.closest<HTMLElement>('.alert-card');
    const all = [...list.querySelectorAll<HTMLElement>('.alert-card')];
    if (event.key === 'j' || event.key === 'ArrowDown' || event.key === 'k' || event.key === 'ArrowUp') {
      const step = event.key === 'j' || event.key === 'ArrowDown' ? 1 : -1;
      const index = current ? all.indexOf(current) + step : 0;
      all[Math.max(0, Math.min(all.length - 1, index))]?.focus();
      event.preventDefault();
      return;
    }
    const number = Number(event.key);
    if (current && Number.isInteger(number) && number >= 1 && number <= OUTCOMES.length) {
      current.querySelector<HTMLButtonElement>(`button[data-outcome="${OUTCOMES[number - 1]}"]`)?.click();
      event.preventDefault();
    }
  });

  async function open(deploymentId: string): Promise<void> {
    stop();
    cards.clear();
    claimControls.clear();
    dispatchLines.clear();
    clear(list);
    purgedNotice.hidden = true;
    history.replaceState(null, '', `#/operator?deployment=${deploymentId}`);
    await refreshStatus(deploymentId);
    const panel = new VerificationPanel(deploymentId, (id) => cards.get(id));
    verification = panel;
    await panel.refresh().catch(() => {});
    toolbar.querySelector('#two-person-badge')?.remove();
    toolbar.append(panel.badge());
    poll = setInterval(() => void refreshStatus(deploymentId), STATUS_POLL_MS);
    officers = await api<OfficerList>(`/deployments/${deploymentId}/officers`).catch(() => []);
    let newest: string | undefined;
    try {
      const page = await api<AlertPage>(`/deployments/${deploymentId}/alerts?limit=50&includeProbe=true`);
      for (const alert of page.alerts) addAlert(alert, false);
      newest = page.alerts[0]?.id;
    } catch (error) {
      list.append(message(`Alerts unavailable: ${errorText(error)}`, 'error'));
    }
    feed = new AlertFeed(
      deploymentId,
      {
        alert: (alert) => addAlert({ ...alert, adjudications: [] }, true),
        adjudication: showAdjudication,
        claim: (claim) => claimControls.get(claim.alertId)?.update(claim),
        // Passed to an officer, acknowledged, en route: the card says so as each happens.
        dispatch: (dispatch) => dispatchLines.get(dispatch.alertId)?.update(dispatch),
        crop: (crop) => void refreshCrop(deploymentId, crop.alertId).catch(() => {}),
        // Another operator's confirmation shows on the card as soon as it is recorded.
        verification: (state) => panel.update(state),
        purged: (purged) => {
          showPurged(purged);
          void refreshStatus(deploymentId);
        },
        liveview: (frame) => liveViews.frame(frame),
        unwatched: (cameraId, reason) => liveViews.ended(cameraId, reason),
        connection: (state, detail) => {
          // Back after a break: confirmations given meanwhile were not sent to this console.
          if (state === 'connected' && connection.dataset.state === 'disconnected' && panel.required)
            void panel.refresh().catch(() => {});
          connection.textContent = state === 'connected' ? 'live' : detail ? `${state}: ${detail}` : state;
          connection.dataset.state = state;
        },
      },
      newest,
    );
    liveViews.attach(feed);
  }

  listDeployments().then(
    (deployments) => {
      if (deployments.length === 0) {
        toolbar.append(
          message(
            'No deployment is assigned to you. An admin assigns operators under Deployments; alerts appear here once one is.',
          ),
        );
        return;
      }
      toolbar.append(
        h('label', { for: 'deployment-picker' }, 'Deployment '),
        deploymentPicker(deployments, (id) => void open(id)),
        connection,
        h('label', { for: 'alert-filter' }, 'Show '),
        filters.select,
      );
      const picker = toolbar.querySelector<HTMLSelectElement>('#deployment-picker');
      if (picker) void open(picker.value);
    },
    (error) => toolbar.append(message(errorText(error), 'error')),
  );
  return stop;
};
