import type { CameraHealth, Deployment, DeploymentStatus } from '@vigil/contract';
import { OUTCOMES, type Outcome } from '@vigil/contract/values';
import { api } from '../api.client.js';
import { h } from '../dom.js';

export { OUTCOMES, type Outcome };

export const OUTCOME_LABELS: Record<Outcome, string> = {
  confirmed: 'Confirmed',
  false_alert: 'False alert',
  not_stopped: 'Not stopped',
  engaged: 'Engaged',
  arrested: 'Arrested',
};

export type { CameraHealth, Deployment, DeploymentStatus };

export function listDeployments(): Promise<Deployment[]> {
  return api<Deployment[]>('/deployments');
}

/** A `<select>` of deployments; remembers the choice in the URL hash (`#/view?deployment=ID`). */
export function deploymentPicker(
  deployments: Deployment[],
  onChange: (id: string) => void,
): HTMLSelectElement {
  const wanted = new URLSearchParams(location.hash.split('?')[1] ?? '').get('deployment');
  const select = h(
    'select',
    { id: 'deployment-picker', 'aria-label': 'Deployment' },
    deployments.map((d) => h('option', { value: d.id }, d.location ? `${d.name} (${d.location})` : d.name)),
  );
  const initial =
    deployments.find((d) => d.id === wanted) ??
    deployments.find((d) => d.status === 'running') ??
    deployments[0];
  if (initial) select.value = initial.id;
  select.addEventListener('change', () => onChange(select.value));
  return select;
}

export function message(text: string, kind: 'info' | 'error' = 'info'): HTMLElement {
  return h(
    'p',
    { class: kind === 'error' ? 'error' : 'muted', role: kind === 'error' ? 'alert' : null },
    text,
  );
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
