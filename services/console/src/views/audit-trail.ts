import type { AuditEntry, AuditPage } from '@vigil/contract';
import { api } from '../api.client.js';
import { clear, h } from '../dom.js';
import { csvField, saveFile } from '../download.js';
import { dateRange } from './date-range.js';
import { errorText } from './shared.js';

/** What each audited action means, in words (unknown actions show as they are stored). */
const ACTIONS: Record<string, string> = {
  'auth.login': 'logged in',
  'auth.login_failed': 'failed to log in',
  'auth.logout': 'logged out',
  'user.create': 'created a user',
  'user.update': 'changed a user',
  'user.password_change': 'changed their password',
  'user.password_change_failed': 'gave a wrong current password',
  'watchlist.create': 'created a watchlist',
  'watchlist.update': 'changed a watchlist',
  'watchlist.delete': 'deleted a watchlist',
  'subject.create': 'enrolled a person',
  'subject.approve': 'approved a watchlist entry',
  'subject.provenance': 'changed a watchlist entry',
  'subject.images_add': 'added photos to a watchlist entry',
  'subject.image_remove': 'removed a photo from a watchlist entry',
  'subject.delete': 'deleted a person from a watchlist',
  'reference_image.view': 'viewed a watchlist photo',
  'import.start': 'started a bulk import',
  'import.finish': 'finished a bulk import',
  'deployment.create': 'created a deployment',
  'deployment.start': 'started a deployment',
  'deployment.stop': 'stopped a deployment',
  'deployment.threshold_change': 'changed a deployment’s threshold',
  'deployment.verification_policy': 'set two-person verification',
  'deployment.authorisation_granted': 'granted a deployment',
  'deployment.authorisation_refused': 'refused a deployment',
  'deployment.authorisation_lapsed': 'let an authorisation lapse',
  'deployment.late_alerts_deleted': 'deleted late alerts',
  'alert.adjudicate': 'recorded an alert’s outcome',
  'alert.verify': 'verified an alert',
  'alert.claim': 'took an alert',
  'alert.release': 'gave an alert back',
  'alert.dispatch': 'passed an alert to an officer',
  'alert.dispatch_acknowledge': 'acknowledged an alert passed to them',
  'alert.dispatch_en_route': 'set off towards a person alerted on',
  'alert_crop.view': 'viewed camera face crops',
  'alert_scene.view': 'viewed an alert’s scene',
  'camera.live_view': 'watched a camera’s live view',
  'stats.export': 'exported statistics',
  'published_record.export': 'exported the published record',
  'evidence_pack.export': 'exported an evidence pack',
  'use_log.export': 'exported a use log',
  'retention.alerts_deleted': 'deleted expired alerts',
  'retention.snapshot_destroyed': 'destroyed a watchlist snapshot',
  'retention.subject_expired': 'removed an expired entry',
  'retention.use_log_deleted': 'deleted an expired use log',
  'keys.rotate': 'rotated the data key',
  'embeddings.reembed': 're-computed the watchlist’s templates',
  'calibration.store': 'stored a calibration',
};

const PAGE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function words(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
}

/** The audited details in words: `key: value`, deployments by name, long lists counted. */
function detailText(details: Record<string, unknown> | undefined, names: Map<string, string>): string {
  return Object.entries(details ?? {})
    .map(([key, raw]) => {
      let text: string;
      if (Array.isArray(raw)) text = raw.length > 3 ? `${raw.length} items` : raw.join(', ');
      else if (raw !== null && typeof raw === 'object') text = JSON.stringify(raw);
      else text = String(raw);
      if (UUID.test(text) && names.has(text)) text = names.get(text) ?? text;
      return `${words(key)}: ${text}`;
    })
    .join('; ');
}

function targetText(entry: AuditEntry, names: Map<string, string>): string {
  if (!entry.targetType) return '';
  // A deployment by its name; a user or subject by the name its details record.
  const recorded = entry.details?.username ?? entry.details?.label;
  const name = names.get(entry.targetId) ?? (typeof recorded === 'string' ? recorded : undefined);
  if (name) return `${words(entry.targetType)} ${name}`;
  return entry.targetId ? `${words(entry.targetType)} ${entry.targetId}` : words(entry.targetType);
}

/**
 * The audit trail for oversight: who did what to which deployment or entry, with the details, in
 * local time; filtered by who, what and dates; paged; the shown entries exported as CSV.
 */
export function auditTrailSection(names: Map<string, string>): HTMLElement {
  const who = h('input', { id: 'audit-who', maxlength: 100, placeholder: 'username', 'aria-label': 'Who' });
  const what = h(
    'select',
    { id: 'audit-what', 'aria-label': 'What' },
    h('option', { value: '' }, 'Everything'),
    Object.entries(ACTIONS).map(([action, label]) => h('option', { value: action }, label)),
  );
  const days = dateRange('audit', 'Entries');
  const rows = h('tbody', {});
  const status = h('p', { id: 'audit-status', class: 'muted', role: 'status' });
  const older = h('button', { type: 'button', id: 'audit-older', class: 'small' }, 'Older entries');
  const exportButton = h('button', { type: 'button', id: 'audit-export', class: 'small' }, 'Export CSV');
  let shown: AuditEntry[] = [];
  const form = h(
    'form',
    { class: 'toolbar', id: 'audit-filters' },
    h('label', { for: 'audit-who' }, 'Who'),
    who,
    h('label', { for: 'audit-what' }, 'What'),
    what,
    days.elements,
    h('button', { type: 'submit', class: 'small' }, 'Show'),
    exportButton,
  );

  function query(beforeId?: number): string {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (who.value.trim()) params.set('actor', who.value.trim());
    if (what.value) params.set('action', what.value);
    days.apply(params);
    if (beforeId) params.set('beforeId', String(beforeId));
    return params.toString();
  }

  async function load(beforeId?: number): Promise<void> {
    if (!beforeId) {
      shown = [];
      clear(rows);
    }
    let page: AuditEntry[];
    try {
      page = (await api<AuditPage>(`/audit?${query(beforeId)}`)).entries;
    } catch (error) {
      status.textContent = errorText(error);
      return;
    }
    shown.push(...page);
    for (const entry of page)
      rows.append(
        h(
          'tr',
          { 'data-audit-id': entry.id, 'data-action': entry.action },
          h('td', { 'data-label': 'When' }, new Date(entry.at).toLocaleString()),
          h('td', { 'data-label': 'Who' }, entry.actorName || 'Vigil'),
          h('td', { 'data-label': 'What' }, ACTIONS[entry.action] ?? entry.action),
          h('td', { 'data-label': 'Which' }, targetText(entry, names)),
          h('td', { 'data-label': 'Details', class: 'audit-details' }, detailText(entry.details, names)),
        ),
      );
    older.hidden = page.length < PAGE;
    status.textContent =
      shown.length === 0
        ? 'No entry matches these filters.'
        : `${shown.length.toLocaleString()} entries shown.`;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  older.addEventListener('click', () => void load(shown[shown.length - 1]?.id));
  exportButton.addEventListener('click', () => {
    const header = ['id', 'time', 'who', 'what', 'action', 'target type', 'target', 'details'];
    const lines = shown.map((entry) =>
      [
        entry.id,
        entry.at,
        entry.actorName,
        ACTIONS[entry.action] ?? entry.action,
        entry.action,
        entry.targetType,
        entry.targetId,
        detailText(entry.details, names),
      ]
        .map(csvField)
        .join(','),
    );
    saveFile(
      `vigil-audit-${new Date().toISOString().slice(0, 10)}.csv`,
      new Blob([`${[header.join(','), ...lines].join('\r\n')}\r\n`], { type: 'text/csv' }),
    );
  });
  void load();
  return h(
    'div',
    { id: 'audit-trail' },
    form,
    status,
    h(
      'table',
      { class: 'audit responsive' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'Who', 'What', 'Which', 'Details'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      rows,
    ),
    older,
  );
}
