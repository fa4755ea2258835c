import type { Camera, ModelInfo, User } from '@vigil/contract';
import { api } from '../api.client.js';
import { clear, formatTime, h } from '../dom.js';
import type { View } from '../main.js';
import { authorisationPanel, type LawfulDeployment, termsFields } from './deployment-authorisation.js';
import { expectedFalseAlertsText, type FalseMatchRates } from './expected-false-alerts.js';
import { type Deployment, type DeploymentStatus, errorText, listDeployments, message } from './shared.js';
import { thresholdSetting } from './threshold-setting.js';
import { verificationSetting } from './verification-panel.js';

interface Watchlist {
  id: string;
  name: string;
  subjectCount: number;
}
/** `GET /model`: the loaded profile's default threshold, the floor the server enforces, its false match rates. */
type ModelSettings = ModelInfo;

/** The open deployment's camera status is asked for this often (as in the Operator view). */
const STATUS_POLL_MS = 5000;

/** Create deployments, attach watchlists and operators, add cameras, start and stop. */
export const deploymentsView: View = (root) => {
  const listArea = h('section', { id: 'deployment-list', 'aria-label': 'Deployments' });
  const detail = h('section', { id: 'deployment-detail', 'aria-label': 'Deployment' });
  const feedback = h('p', { class: 'action-status', role: 'status', id: 'deployment-feedback' });
  let watchlists: Watchlist[] = [];
  let users: User[] = [];
  let poll: ReturnType<typeof setInterval> | undefined;
  const stopPolling = () => {
    if (poll) clearInterval(poll);
    poll = undefined;
  };

  const name = h('input', { id: 'new-deployment-name', required: true, maxlength: 200 });
  const location = h('input', { id: 'new-deployment-location', maxlength: 500 });
  const threshold = h('input', {
    id: 'new-deployment-threshold',
    type: 'number',
    step: '0.01',
    min: '0',
    max: '1',
    required: true,
  });
  const thresholdHint = h('p', { class: 'muted hint', id: 'threshold-hint' });
  // What the threshold means for the lists chosen: false alerts per 1,000 faces at their size.
  const falseAlertsHint = h('p', { class: 'hint', id: 'expected-false-alerts', role: 'status' });
  let rates: FalseMatchRates | null | undefined;
  const showFalseAlerts = () => {
    if (rates === undefined) return;
    const chosen = new Set(
      [...listChoices.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value),
    );
    const entries = watchlists.filter((w) => chosen.has(w.id)).reduce((n, w) => n + w.subjectCount, 0);
    falseAlertsHint.textContent = expectedFalseAlertsText(rates, Number(threshold.value), entries);
  };
  threshold.addEventListener('input', showFalseAlerts);
  // The profile's default and floor come from the server: they change with the model.
  api<ModelSettings>('/model').then(
    (model) => {
      if (!threshold.value) threshold.value = String(model.defaultThreshold);
      threshold.min = String(model.thresholdFloor);
      thresholdHint.textContent = `Model profile “${model.profile ?? 'unknown'}”: default ${model.defaultThreshold}, lowest allowed ${model.thresholdFloor}.`;
      rates = model.falseMatchRates;
      showFalseAlerts();
    },
    (error) => {
      thresholdHint.textContent = `Default threshold unavailable: ${errorText(error)}`;
    },
  );
  const listChoices = h('fieldset', { id: 'new-deployment-watchlists' }, h('legend', {}, 'Watchlists'));
  listChoices.addEventListener('change', showFalseAlerts);
  const terms = termsFields('new-deployment');
  const create = h(
    'form',
    { class: 'card', id: 'create-deployment' },
    h('h3', {}, 'New deployment'),
    h('label', { for: 'new-deployment-name' }, 'Name'),
    name,
    h('label', { for: 'new-deployment-location' }, 'Location'),
    location,
    ...terms.elements,
    h('label', { for: 'new-deployment-threshold' }, 'Threshold'),
    threshold,
    thresholdHint,
    listChoices,
    falseAlertsHint,
    h('button', { type: 'submit', class: 'primary' }, 'Create'),
  );
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    const watchlistIds = [...listChoices.querySelectorAll<HTMLInputElement>('input:checked')].map(
      (i) => i.value,
    );
    api<Deployment>('/deployments', {
      method: 'POST',
      body: {
        name: name.value,
        location: location.value,
        ...terms.values(),
        threshold: Number(threshold.value),
        watchlistIds,
      },
    }).then(
      (deployment) => {
        feedback.textContent = `Created ${deployment.name}.`;
        // The threshold stays as it was: the next deployment usually wants the same.
        const kept = threshold.value;
        create.reset();
        threshold.value = kept;
        void refresh(deployment.id);
      },
      (error) => {
        feedback.textContent = errorText(error);
      },
    );
  });
  root.append(
    h('h2', {}, 'Deployments'),
    feedback,
    h('div', { class: 'columns' }, h('div', {}, listArea, create), detail),
  );

  async function refresh(selectId?: string): Promise<void> {
    const [deployments, lists, people] = await Promise.all([
      listDeployments(),
      api<Watchlist[]>('/watchlists').catch(() => []),
      api<User[]>('/users').catch(() => []),
    ]);
    watchlists = lists;
    users = people;
    clear(listChoices);
    listChoices.append(
      h('legend', {}, 'Watchlists'),
      ...watchlists.map((w) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', value: w.id, name: 'watchlist' }),
          ` ${w.name} (${w.subjectCount})`,
        ),
      ),
    );
    showFalseAlerts();
    clear(listArea);
    listArea.append(
      h(
        'ul',
        { class: 'plain' },
        deployments.map((d) =>
          h(
            'li',
            {},
            h(
              'button',
              { type: 'button', class: 'link', 'data-deployment': d.id, onclick: () => void show(d.id) },
              d.name,
            ),
            ` `,
            h('span', { class: `badge status-${d.status}` }, d.status),
          ),
        ),
      ),
    );
    if (selectId) await show(selectId);
  }

  async function show(id: string): Promise<void> {
    stopPolling();
    clear(detail);
    let deployment: Deployment;
    let cameras: Camera[];
    let status: DeploymentStatus | null;
    try {
      [deployment, cameras, status] = await Promise.all([
        api<Deployment>(`/deployments/${id}`),
        api<Camera[]>(`/deployments/${id}/cameras`),
        api<DeploymentStatus>(`/deployments/${id}/status`).catch(() => null),
      ]);
    } catch (error) {
      detail.append(message(errorText(error), 'error'));
      return;
    }
    const act = (path: string, init: { method: string; body?: unknown }, done: string) =>
      api(path, init).then(
        () => {
          feedback.textContent = done;
          void show(id);
          void refresh();
        },
        (error) => {
          feedback.textContent = errorText(error);
        },
      );
    const attach = h(
      'form',
      { id: 'attach-watchlists' },
      h('h4', {}, 'Watchlists'),
      watchlists.map((w) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', value: w.id, checked: deployment.watchlistIds.includes(w.id) }),
          ` ${w.name}`,
        ),
      ),
      h('button', { type: 'submit' }, 'Save watchlists'),
    );
    attach.addEventListener('submit', (event) => {
      event.preventDefault();
      const watchlistIds = [...attach.querySelectorAll<HTMLInputElement>('input:checked')].map(
        (i) => i.value,
      );
      void act(
        `/deployments/${id}/watchlists`,
        { method: 'PUT', body: { watchlistIds } },
        'Watchlists saved.',
      );
    });
    const operatorSelect = h(
      'select',
      { id: 'operator-select', 'aria-label': 'Operator' },
      users
        .filter(
          (u) =>
            (u.role === 'operator' || u.role === 'officer') &&
            !u.disabled &&
            !deployment.operatorIds.includes(u.id),
        )
        .map((u) =>
          h('option', { value: u.id }, u.role === 'officer' ? `${u.username} (officer)` : u.username),
        ),
    );
    const operators = h(
      'form',
      { id: 'assign-operator' },
      h('h4', {}, 'Operators and officers'),
      h(
        'ul',
        { class: 'plain' },
        deployment.operatorIds.map((uid) => {
          const username = users.find((u) => u.id === uid)?.username ?? uid;
          return h(
            'li',
            { 'data-operator': username },
            `${username} `,
            h(
              'button',
              {
                type: 'button',
                class: 'small unassign',
                'aria-label': `Unassign ${username}`,
                onclick: () =>
                  void act(
                    `/deployments/${id}/operators/${uid}`,
                    { method: 'DELETE' },
                    `${username} no longer receives this deployment's alerts.`,
                  ),
              },
              'Unassign',
            ),
          );
        }),
      ),
      operatorSelect,
      h('button', { type: 'submit' }, 'Assign'),
    );
    operators.addEventListener('submit', (event) => {
      event.preventDefault();
      if (operatorSelect.value)
        void act(
          `/deployments/${id}/operators`,
          { method: 'POST', body: { userIds: [operatorSelect.value] } },
          'Operator assigned.',
        );
    });
    const cameraName = h('input', { id: 'camera-name', required: true, maxlength: 200 });
    const cameraUrl = h('input', {
      id: 'camera-url',
      required: true,
      placeholder: 'rtsp://… or /path/to/file.mp4',
    });
    const cameraFps = h('input', {
      id: 'camera-fps',
      type: 'number',
      min: '1',
      max: '30',
      step: '1',
      value: '5',
    });
    const cameraLoop = h('input', { id: 'camera-loop', type: 'checkbox' });
    const cameraForm = h(
      'form',
      { id: 'add-camera' },
      h('h4', {}, 'Cameras'),
      h(
        'ul',
        { class: 'plain' },
        cameras.map((c) =>
          h(
            'li',
            { 'data-camera': c.id },
            `${c.name} — ${c.url} · ${c.fps} fps · `,
            h('span', { class: 'camera-status' }),
          ),
        ),
      ),
      h('label', { for: 'camera-name' }, 'Name'),
      cameraName,
      h('label', { for: 'camera-url' }, 'URL or file'),
      cameraUrl,
      h('label', { for: 'camera-fps' }, 'Frames a second'),
      cameraFps,
      h('label', { class: 'check' }, cameraLoop, ' Loop a file'),
      h('button', { type: 'submit' }, 'Add camera'),
    );
    cameraForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void act(
        `/deployments/${id}/cameras`,
        {
          method: 'POST',
          body: {
            name: cameraName.value,
            url: cameraUrl.value,
            fps: Number(cameraFps.value),
            loop: cameraLoop.checked,
          },
        },
        'Camera added.',
      );
    });
    const badge = h(
      'span',
      { class: `badge status-${deployment.status}`, id: 'deployment-status' },
      deployment.status,
    );
    const startButton = h(
      'button',
      { type: 'button', id: 'start-deployment', class: 'primary', disabled: deployment.status !== 'planned' },
      'Start',
    );
    const stopButton = h(
      'button',
      { type: 'button', id: 'stop-deployment', class: 'danger', disabled: deployment.status !== 'running' },
      'Stop',
    );
    const confirmArea = h('div', { class: 'confirm-area' });
    /** An inline question with a second button that does it: nothing happens on the first click. */
    const ask = (
      areaId: string,
      text: string,
      yes: { id: string; label: string; kind: string },
      then: () => void,
    ) => {
      clear(confirmArea);
      const box = h(
        'div',
        { class: 'confirm', id: areaId, role: 'alert' },
        h('p', {}, text),
        h(
          'div',
          { class: 'toolbar' },
          h(
            'button',
            {
              type: 'button',
              id: yes.id,
              class: yes.kind,
              onclick: () => {
                clear(confirmArea);
                then();
              },
            },
            yes.label,
          ),
          h('button', { type: 'button', onclick: () => clear(confirmArea) }, 'Cancel'),
        ),
      );
      confirmArea.append(box);
      box.querySelector<HTMLButtonElement>('button')?.focus();
    };
    const start = () => void act(`/deployments/${id}/start`, { method: 'POST' }, 'Deployment started.');
    startButton.addEventListener('click', () => {
      if (deployment.operatorIds.length > 0) return start();
      ask(
        'start-warning',
        'No operator is assigned to this deployment: its alerts will reach nobody until one is. Start it anyway?',
        { id: 'start-anyway', label: 'Start without an operator', kind: 'primary' },
        start,
      );
    });
    stopButton.addEventListener('click', () =>
      ask(
        'stop-confirm',
        'Stop this deployment? Its cameras stop, no more alerts are raised, and a stopped deployment cannot be started again.',
        { id: 'stop-anyway', label: 'Stop the deployment', kind: 'danger' },
        () => void act(`/deployments/${id}/stop`, { method: 'POST' }, 'Deployment stopped.'),
      ),
    );
    const showStatus = (current: DeploymentStatus | null) => {
      if (current) {
        badge.textContent = current.status;
        badge.className = `badge status-${current.status}`;
        startButton.disabled = current.status !== 'planned';
        stopButton.disabled = current.status !== 'running';
      }
      for (const item of cameraForm.querySelectorAll<HTMLElement>('li[data-camera]')) {
        const health = current?.cameras.find((c) => c.id === item.dataset.camera);
        const text = item.querySelector('.camera-status');
        item.dataset.status = health?.status ?? 'unknown';
        if (text)
          text.textContent = health
            ? `${health.status}${health.lastErrorCode ? ` (${health.lastErrorCode})` : ''}`
            : 'status unknown';
      }
    };
    showStatus(status);
    // Cameras go online and offline on their own: the view follows them while it is open.
    poll = setInterval(() => {
      if (!detail.isConnected) return stopPolling();
      api<DeploymentStatus>(`/deployments/${id}/status`).then(showStatus, () => showStatus(null));
    }, STATUS_POLL_MS);
    detail.append(
      h(
        'div',
        { class: 'card', 'data-deployment-id': id },
        h('h3', {}, deployment.name, ' ', badge),
        h(
          'p',
          {},
          `${deployment.location || 'no location'} · threshold ${deployment.threshold} · model ${deployment.model}`,
        ),
        deployment.startedAt
          ? h(
              'p',
              { class: 'muted', id: 'deployment-times' },
              `Started ${formatTime(deployment.startedAt)}`,
              deployment.stoppedAt ? `, stopped ${formatTime(deployment.stoppedAt)}` : null,
            )
          : null,
        h('div', { class: 'toolbar' }, startButton, stopButton),
        confirmArea,
        authorisationPanel(deployment as Deployment & LawfulDeployment, act),
        verificationSetting(deployment),
        thresholdSetting(deployment, act),
        attach,
        operators,
        cameraForm,
      ),
    );
  }

  refresh().catch((error) => root.append(message(errorText(error), 'error')));
  return stopPolling;
};
