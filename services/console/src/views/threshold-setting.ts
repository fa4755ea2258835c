import type { ModelInfo } from '@vigil/contract';
import { api } from '../api.client.js';
import { h } from '../dom.js';

type Act = (path: string, init: { method: string; body?: unknown }, done: string) => Promise<unknown>;

/**
 * A planned or running deployment's match threshold, changed from the console with a reason that
 * is kept on the audit trail (`PATCH /deployments/:id/threshold`; never below the profile's floor).
 * A stopped deployment's threshold is history: nothing to change.
 */
export function thresholdSetting(
  deployment: { id: string; status: string; threshold: number },
  act: Act,
): HTMLElement | null {
  if (deployment.status === 'stopped') return null;
  const value = h('input', {
    id: 'threshold-change',
    type: 'number',
    step: '0.01',
    max: '1',
    required: true,
    value: String(deployment.threshold),
  });
  const reason = h('input', {
    id: 'threshold-reason',
    maxlength: 1000,
    placeholder: 'e.g. too many false alerts in low light',
  });
  const hint = h(
    'p',
    { class: 'muted hint', id: 'threshold-change-hint' },
    'Higher: fewer false alerts, more people on the list missed. The change applies to the next face.',
  );
  api<ModelInfo>('/model').then(
    (model) => {
      value.min = String(model.thresholdFloor);
      hint.prepend(`Lowest allowed ${model.thresholdFloor}. `);
    },
    () => undefined,
  );
  const form = h(
    'form',
    { id: 'threshold-form', class: 'threshold-setting' },
    h('h4', {}, 'Match threshold'),
    h('label', { for: 'threshold-change' }, 'Threshold'),
    value,
    h('label', { for: 'threshold-reason' }, 'Why (kept on the audit trail)'),
    reason,
    hint,
    h('button', { type: 'submit' }, 'Change threshold'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = Number(value.value);
    const why = reason.value.trim();
    void act(
      `/deployments/${deployment.id}/threshold`,
      { method: 'PATCH', body: why ? { threshold: wanted, reason: why } : { threshold: wanted } },
      deployment.status === 'planned'
        ? `Threshold changed from ${deployment.threshold} to ${wanted}. A request already made for the old threshold is withdrawn.`
        : `Threshold changed from ${deployment.threshold} to ${wanted}.`,
    );
  });
  return form;
}
