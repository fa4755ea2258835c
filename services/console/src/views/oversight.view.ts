import { api } from '../api.client.js';
import { clear, formatTime, h, svg } from '../dom.js';
import type { View } from '../main.js';
import { publishedRecordSection } from './published-record.js';
import { deploymentPicker, errorText, listDeployments, message } from './shared.js';

interface AuditRow {
  id: number;
  at: string;
  actorName: string;
  action: string;
  targetType: string;
  targetId: string;
}

/** Numbers of a stats object, flattened to `a.b` keys. */
function flatten(value: unknown, prefix = ''): [string, string][] {
  if (value === null || value === undefined) return [[prefix, '—']];
  if (Array.isArray(value)) return [[prefix, `${value.length} rows`]];
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) =>
      flatten(inner, prefix ? `${prefix}.${key}` : key),
    );
  return [[prefix, typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : String(value)]];
}

/** A horizontal bar chart in inline SVG. */
function barChart(title: string, data: [string, number][]): Element {
  const max = Math.max(1, ...data.map(([, v]) => v));
  const rowHeight = 22;
  const chart = svg('svg', {
    viewBox: `0 0 420 ${data.length * rowHeight + 4}`,
    role: 'img',
    'aria-label': title,
    class: 'chart',
  });
  data.forEach(([label, value], index) => {
    const y = index * rowHeight + 2;
    chart.append(
      svg('text', { x: 0, y: y + 15, class: 'chart-label' }, label),
      svg('rect', {
        x: 130,
        y,
        width: Math.max(1, (value / max) * 240),
        height: rowHeight - 6,
        class: 'chart-bar',
      }),
      svg('text', { x: 136 + (value / max) * 240, y: y + 15, class: 'chart-value' }, String(value)),
    );
  });
  return h('figure', { class: 'chart-figure' }, chart as unknown as Node, h('figcaption', {}, title));
}

/** Why frames read were not analysed, in an oversight reader's words (reasons of GET .../stats). */
const NOT_ANALYSED_WORDS: Record<string, string> = {
  publish_failed: 'while the message bus was down',
  detector_unavailable: 'with no face detector running',
  detector_busy: 'dropped by a detector that was behind',
  queue_full: 'dropped because the camera reader fell behind',
};

interface WatchedFigures {
  framesRead?: number;
  framesProcessed?: number;
  watchedShare?: number | null;
  framesNotAnalysed?: { total: number; byReason: Record<string, number> };
}

/** How much of what the cameras saw was analysed, and why the rest was not, in one sentence. */
export function watchedSentence(figures: WatchedFigures): string {
  const read = figures.framesRead ?? 0;
  if (read === 0 || figures.watchedShare === null || figures.watchedShare === undefined)
    return 'Frames read by the cameras were not counted in this period.';
  const count = (n: number) => n.toLocaleString('en-GB');
  const share = `${Math.floor(figures.watchedShare * 1000) / 10}%`;
  const missed = Object.entries(figures.framesNotAnalysed?.byReason ?? {})
    .filter(([, frames]) => frames > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, frames]) => `${count(frames)} ${NOT_ANALYSED_WORDS[reason] ?? reason}`);
  const watched = `Watched: ${share} of the ${count(read)} frames the cameras gave were analysed.`;
  return missed.length > 0 ? `${watched} Not analysed: ${missed.join('; ')}.` : watched;
}

function statsBlock(title: string, stats: Record<string, unknown>): HTMLElement {
  const block = h('div', { class: 'card stats' }, h('h3', {}, title));
  // Per deployment the outcomes are top-level; across deployments they sit under `totals`.
  const totals = stats.totals as Record<string, unknown> | undefined;
  block.append(h('p', { class: 'watched' }, watchedSentence((totals ?? stats) as WatchedFigures)));
  const outcomes = (stats.outcomes ?? totals?.outcomes) as Record<string, number> | undefined;
  if (outcomes && typeof outcomes === 'object')
    block.append(
      barChart(
        'Alerts by outcome',
        Object.entries(outcomes).map(([k, v]) => [k, Number(v)]),
      ),
    );
  const hours = (stats.series ?? stats.hours) as { hour: string; alerts: number }[] | undefined;
  if (Array.isArray(hours) && hours.length > 0)
    block.append(
      barChart(
        'Alerts per hour',
        hours
          .slice(-12)
          .map((row) => [
            new Date(row.hour).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
            Number(row.alerts),
          ]),
      ),
    );
  block.append(
    h(
      'table',
      {},
      h(
        'tbody',
        {},
        flatten(stats)
          .filter(([key]) => !key.startsWith('outcomes.') && !key.startsWith('totals.outcomes.'))
          .map(([key, value]) => h('tr', {}, h('th', { scope: 'row' }, key), h('td', {}, value))),
      ),
    ),
  );
  return block;
}

/** Statistics per deployment and overall, and the hash-chained audit trail. */
export const oversightView: View = (root) => {
  const deploymentStats = h('section', { id: 'deployment-stats' });
  const overall = h('section', { id: 'overall-stats' });
  const audit = h('section', { id: 'audit', 'aria-label': 'Audit trail' });
  const toolbar = h('div', { class: 'toolbar' });
  root.append(
    h('h2', {}, 'Oversight'),
    toolbar,
    h('div', { class: 'columns' }, deploymentStats, overall),
    publishedRecordSection(),
    audit,
  );

  const showDeployment = (id: string) =>
    api<Record<string, unknown>>(`/deployments/${id}/stats`).then(
      (stats) => {
        clear(deploymentStats);
        deploymentStats.append(statsBlock('This deployment', stats));
      },
      (error) => {
        clear(deploymentStats);
        deploymentStats.append(message(errorText(error), 'error'));
      },
    );

  listDeployments().then(
    (deployments) => {
      if (deployments.length === 0) return;
      const picker = deploymentPicker(deployments, (id) => void showDeployment(id));
      toolbar.append(h('label', { for: 'deployment-picker' }, 'Deployment '), picker);
      void showDeployment(picker.value);
    },
    () => {},
  );
  api<Record<string, unknown>>('/oversight/stats').then(
    (stats) => overall.append(statsBlock('All deployments', stats)),
    (error) => overall.append(message(errorText(error), 'error')),
  );

  const verify = h('p', { id: 'audit-verify', role: 'status' }, 'Checking the hash chain…');
  const rows = h('tbody', {});
  audit.append(
    h('h3', {}, 'Audit trail'),
    verify,
    h(
      'table',
      { class: 'audit' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'Who', 'Action', 'Target'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      rows,
    ),
  );
  api<{ ok: boolean; entries: number; firstBad?: { id: number; reason: string } }>('/audit/verify').then(
    (result) => {
      verify.textContent = result.ok
        ? `Hash chain intact: ${result.entries} entries.`
        : `Hash chain BROKEN at entry ${result.firstBad?.id} (${result.firstBad?.reason}).`;
      verify.className = result.ok ? 'ok' : 'error';
    },
    (error) => {
      verify.textContent = errorText(error);
    },
  );
  api<{ entries: AuditRow[] }>('/audit?limit=100').then(
    (page) => {
      for (const row of page.entries)
        rows.append(
          h(
            'tr',
            {},
            h('td', {}, formatTime(row.at)),
            h('td', {}, row.actorName),
            h('td', {}, row.action),
            h('td', {}, `${row.targetType} ${row.targetId}`),
          ),
        );
    },
    (error) => audit.append(message(errorText(error), 'error')),
  );
  return undefined;
};
