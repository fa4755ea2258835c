import type { PublishedPeriod, PublishedRecord } from '@vigil/contract';
import { ApiError, api } from '../api.client.js';
import { clear, h } from '../dom.js';
import { loadSession } from '../session.js';
import { errorText, message } from './shared.js';

/** Fetches `/api/v1${path}` with the session's token and saves the answer as `filename`. */
async function download(path: string, filename: string): Promise<void> {
  const token = loadSession()?.token;
  const response = await fetch(`/api/v1${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as {
      error?: { code?: string; message?: string };
    } | null;
    throw new ApiError(
      response.status,
      body?.error?.code ?? 'http_error',
      body?.error?.message ?? response.statusText,
    );
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const time = (iso: string | null) =>
  iso
    ? new Date(iso).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
        timeZone: 'UTC',
      })
    : '—';

function composition(counts: Record<string, number>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`);
  return parts.length > 0 ? parts.join(', ') : '—';
}

function expected(record: PublishedRecord): string {
  const e = record.expectedFalseAlerts;
  if (!e) return 'no calibration';
  const bound = e.upperBound ? 'at most ' : '';
  return `${bound}${e.forFacesSeen.toFixed(2)} (${bound}${e.per1000Faces.toFixed(3)} per 1,000 faces)`;
}

const COLUMNS = [
  'Date',
  'Place',
  'Times (UTC)',
  'Watchlist',
  'Faces seen',
  'Alerts',
  'True',
  'False',
  'Engagements',
  'Arrests',
  'Threshold',
  'Expected false alerts',
  '',
];

/**
 * The oversight view's published record: the period's deployments with the figures a force
 * publishes, downloads as CSV and JSON, a printable page, and each deployment's evidence pack.
 */
export function publishedRecordSection(): HTMLElement {
  const from = h('input', { id: 'record-from', type: 'date', 'aria-label': 'From' });
  const to = h('input', { id: 'record-to', type: 'date', 'aria-label': 'To (exclusive)' });
  const feedback = h('p', { id: 'record-feedback', role: 'status', class: 'muted' });
  const periodLine = h('p', { id: 'record-period' });
  const body = h('div', { id: 'published-record-table' });
  const query = () => {
    const params = new URLSearchParams();
    if (from.value) params.set('from', from.value);
    if (to.value) params.set('to', to.value);
    const text = params.toString();
    return text ? `?${text}` : '';
  };
  const failed = (error: unknown) => {
    feedback.textContent = errorText(error);
    feedback.className = 'error';
  };

  async function show(): Promise<void> {
    clear(body);
    try {
      const period = await api<PublishedPeriod>(`/oversight/published-record${query()}`);
      periodLine.textContent = `Period: ${period.from?.slice(0, 10) ?? 'from the first deployment'} to ${
        period.to ? `before ${period.to.slice(0, 10)}` : 'now'
      }.`;
      body.append(table(period));
      feedback.textContent = `${period.totals.deployments} deployment${period.totals.deployments === 1 ? '' : 's'}: no names, no images.`;
      feedback.className = 'muted';
    } catch (error) {
      body.append(message(errorText(error), 'error'));
    }
  }

  function table(period: PublishedPeriod): HTMLElement {
    if (period.deployments.length === 0) return message('No deployment ran in this period.');
    const row = (r: PublishedRecord) =>
      h(
        'tr',
        { 'data-deployment': r.deploymentId },
        h('td', {}, r.date ?? '—'),
        h('td', {}, r.location || r.deployment),
        h('td', {}, `${time(r.startedAt)}–${r.stoppedAt ? time(r.stoppedAt) : 'running'}`),
        h(
          'td',
          {},
          `${r.watchlist.size}: ${composition(r.watchlist.byCategory)}`,
          h('br', {}),
          h('span', { class: 'muted' }, composition(r.watchlist.byPriority)),
        ),
        h('td', {}, String(r.facesSeen)),
        h('td', {}, String(r.alerts)),
        h('td', {}, String(r.trueAlerts)),
        h('td', {}, String(r.falseAlerts)),
        h('td', {}, String(r.engagements)),
        h('td', {}, String(r.arrests)),
        h(
          'td',
          {},
          `${r.threshold}${r.thresholdChanges > 0 ? ` (changed ${r.thresholdChanges}×)` : ''}`,
          h('br', {}),
          h('span', { class: 'muted' }, r.model),
        ),
        h('td', {}, expected(r)),
        h(
          'td',
          { class: 'no-print' },
          h(
            'button',
            {
              type: 'button',
              class: 'evidence-pack',
              onclick: () =>
                void download(
                  `/deployments/${r.deploymentId}/evidence-pack`,
                  `evidence-pack-${r.deploymentId}.json`,
                ).then(() => {
                  feedback.textContent = `Evidence pack of ${r.deployment} downloaded.`;
                  feedback.className = 'ok';
                }, failed),
            },
            'Evidence pack',
          ),
        ),
      );
    const t = period.totals;
    const record = h(
      'table',
      { class: 'published-record' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', {}, period.deployments.map(row)),
      h(
        'tfoot',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'row', colspan: 4 }, `Total, ${t.deployments} deployments`),
          [t.facesSeen, t.alerts, t.trueAlerts, t.falseAlerts, t.engagements, t.arrests].map((n) =>
            h('td', {}, String(n)),
          ),
          h('td', { colspan: 3 }),
        ),
      ),
    );
    labelCells(record);
    return record;
  }

  const stamp = () =>
    `published-record${from.value ? `-from-${from.value}` : ''}${to.value ? `-to-${to.value}` : ''}`;
  const section = h(
    'section',
    { id: 'published-record', 'aria-label': 'Published record' },
    h('h3', {}, 'Published record'),
    h(
      'p',
      { class: 'muted' },
      'The figures a force publishes for each deployment. Safe to publish: no names, no images.',
    ),
    h(
      'div',
      { class: 'toolbar no-print' },
      h('label', { for: 'record-from' }, 'From '),
      from,
      h('label', { for: 'record-to' }, ' To '),
      to,
      h('button', { type: 'button', id: 'record-show', onclick: () => void show() }, 'Show'),
      h(
        'button',
        {
          type: 'button',
          id: 'record-csv',
          onclick: () =>
            void download(`/oversight/published-record.csv${query()}`, `${stamp()}.csv`).catch(failed),
        },
        'Download CSV',
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'record-json',
          onclick: () =>
            void download(`/oversight/published-record${query()}`, `${stamp()}.json`).catch(failed),
        },
        'Download JSON',
      ),
      h('button', { type: 'button', id: 'record-print', onclick: () => window.print() }, 'Print'),
    ),
    feedback,
    periodLine,
    body,
  );
  void show();
  return section;
}

/** Each body and footer cell carries its column's heading, which a phone shows beside the value. */
function labelCells(table: HTMLElement): void {
  for (const row of table.querySelectorAll('tbody tr, tfoot tr')) {
    let column = 0;
    for (const cell of row.children) {
      if (!(cell instanceof HTMLTableCellElement)) continue;
      const label = COLUMNS[column];
      if (cell.tagName === 'TD' && cell.colSpan === 1 && label) cell.dataset.label = label;
      column += cell.colSpan;
    }
  }
}
