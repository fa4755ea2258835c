import { api } from '../api.client.js';
import { clear, formatTime, h } from '../dom.js';
import type { View } from '../main.js';
import { type Deployment, type DeploymentStatus, errorText, listDeployments, message } from './shared.js';

interface Watchlist {
  id: string;
  name: string;
}
interface User {
  id: string;
  username: string;
  role: string;
  disabled?: boolean;
}
interface Camera {
  id: string;
  name: string;
  url: string;
  fps: number;
}

/** Create deployments, attach watchlists and operators, add cameras, start and stop. */
export const deploymentsView: View = (root) => {
  const listArea = h('section', { id: 'deployment-list', 'aria-label': 'Deployments' });
  const detail = h('section', { id: 'deployment-detail', 'aria-label': 'Deployment' });
  const feedback = h('p', { class: 'action-status', role: 'status', id: 'deployment-feedback' });
  let watchlists: Watchlist[] = [];
  let users: User[] = [];

  const name = h('input', { id: 'new-deployment-name', required: true, maxlength: 200 });
  const location = h('input', { id: 'new-deployment-location', maxlength: 500 });
  const threshold = h('input', {
    id: 'new-deployment-threshold',
    type: 'number',
    step: '0.01',
    min: '0',
    max: '1',
    value: '0.6',
    required: true,
  });
  const listChoices = h('fieldset', { id: 'new-deployment-watchlists' }, h('legend', {}, 'Watchlists'));
  const create = h(
    'form',
    { class: 'card', id: 'create-deployment' },
    h('h3', {}, 'New deployment'),
    h('label', { for: 'new-deployment-name' }, 'Name'),
    name,
    h('label', { for: 'new-deployment-location' }, 'Location'),
    location,
    h('label', { for: 'new-deployment-threshold' }, 'Threshold'),
    threshold,
    listChoices,
    h('button', { type: 'submit', class: 'primary' }, 'Create'),
  );
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    const watchlistIds = [...listChoices.querySelectorAll<HTMLInputElement>('input:checked')].map(
      (i) => i.value,
    );
    api<Deployment>('/deployments', {
      method: 'POST',
      body: { name: name.value, location: location.value, threshold: Number(threshold.value), watchlistIds },
    }).then(
      (deployment) => {
        feedback.textContent = `Created ${deployment.name}.`;
        create.reset();
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
          ` ${w.name}`,
        ),
      ),
    );
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
        .filter((u) => u.role === 'operator' && !u.disabled && !deployment.operatorIds.includes(u.id))
        .map((u) => h('option', { value: u.id }, u.username)),
    );
    const operators = h(
      'form',
      { id: 'assign-operator' },
      h('h4', {}, 'Operators and officers'),
      h(
        'ul',
        { class: 'plain' },
        deployment.operatorIds.map((uid) => h('li', {}, users.find((u) => u.id === uid)?.username ?? uid)),
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
        cameras.map((c) => {
          const health = status?.cameras.find((s) => s.id === c.id);
          return h('li', {}, `${c.name} — ${c.url} · ${c.fps} fps`, health ? ` · ${health.status}` : '');
        }),
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
    detail.append(
      h(
        'div',
        { class: 'card', 'data-deployment-id': id },
        h(
          'h3',
          {},
          deployment.name,
          ' ',
          h(
            'span',
            { class: `badge status-${deployment.status}`, id: 'deployment-status' },
            deployment.status,
          ),
        ),
        h(
          'p',
          {},
          `${deployment.location || 'no location'} · threshold ${deployment.threshold} · model ${deployment.model}`,
        ),
        deployment.startedAt
          ? h('p', { class: 'muted' }, `Started ${formatTime(deployment.startedAt)}`)
          : null,
        h(
          'div',
          { class: 'toolbar' },
          h(
            'button',
            {
              type: 'button',
              id: 'start-deployment',
              class: 'primary',
              disabled: deployment.status !== 'planned',
              onclick: () => void act(`/deployments/${id}/start`, { method: 'POST' }, 'Deployment started.'),
            },
            'Start',
          ),
          h(
            'button',
            {
              type: 'button',
              id: 'stop-deployment',
              class: 'danger',
              disabled: deployment.status !== 'running',
              onclick: () => void act(`/deployments/${id}/stop`, { method: 'POST' }, 'Deployment stopped.'),
            },
            'Stop',
          ),
        ),
        attach,
        operators,
        cameraForm,
      ),
    );
  }

  refresh().catch((error) => root.append(message(errorText(error), 'error')));
  return undefined;
};
