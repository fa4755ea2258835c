import type { AlertFigures, DeploymentStats, NotAnalysedReason, OversightStats } from '@vigil/contract';
import { api } from '../api.client.js';
import { clear, h, svg } from '../dom.js';
import { downloadFromApi } from '../download.js';
import type { View } from '../main.js';
import { auditTrailSection } from './audit-trail.js';
import { dateRange } from './date-range.js';
import { publishedRecordSection } from './published-record.js';
import {
  deploymentPicker,
  errorText,
  listDeployments,
  message,
  OUTCOME_LABELS,
  type Outcome,
} from './shared.js';
import { statRows } from './stat-words.js';

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
const NOT_ANALYSED_WORDS: Record<NotAnalysedReason, string> = {
  publish_failed: 'while the message bus was down',
  detector_unavailable: 'with no face detector running',
  detector_busy: 'dropped by a detector that was behind',
  queue_full: 'dropped because the camera reader fell behind',
};

type WatchedFigures = Pick<AlertFigures, 'framesRead' | 'watchedShare' | 'framesNotAnalysed'>;

/** How much of what the cameras saw was analysed, and why the rest was not, in one sentence. */
export function watchedSentence(figures: WatchedFigures): string {
  const read = figures.framesRead;
  if (read === 0 || figures.watchedShare === null)
    return 'Frames read by the cameras were not counted in this period.';
  const count = (n: number) => n.toLocaleString('en-GB');
  const share = `${Math.floor(figures.watchedShare * 1000) / 10}%`;
  const missed = (Object.entries(figures.framesNotAnalysed.byReason) as [NotAnalysedReason, number][])
    .filter(([, frames]) => frames > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, frames]) => `${count(frames)} ${NOT_ANALYSED_WORDS[reason] ?? reason}`);
  const watched = `Watched: ${share} of the ${count(read)} frames the cameras gave were analysed.`;
  return missed.length > 0 ? `${watched} Not analysed: ${missed.join('; ')}.` : watched;
}

function statsBlock(title: string, stats: DeploymentStats | OversightStats): HTMLElement {
  const block = h('div', { class: 'card stats' }, h('h3', {}, title));
  // Per deployment the figures are top-level; across deployments they sit under `totals`.
  const figures: AlertFigures = 'totals' in stats ? stats.totals : stats;
  block.append(h('p', { class: 'watched' }, watchedSentence(figures)));
  block.append(
    barChart(
      'Alerts by outcome',
      Object.entries(figures.outcomes).map(([k, v]) => [
        k in OUTCOME_LABELS ? OUTCOME_LABELS[k as Outcome] : k === 'unresolved' ? 'No outcome yet' : k,
        v,
      ]),
    ),
  );
  const hours = stats.series;
  if (hours.length > 0)
    block.append(
      barChart(
        'Alerts per hour',
        hours
          .slice(-12)
          .map((row) => [
            new Date(row.hour).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
            row.alerts,
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
        statRows(stats).map(([label, value]) =>
          h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, value)),
        ),
      ),
    ),
  );
  return block;
}

/** Statistics per deployment and overall over a date range, and the hash-chained audit trail. */
export const oversightView: View = (root) => {
  const deploymentStats = h('section', { id: 'deployment-stats' });
  const overall = h('section', { id: 'overall-stats' });
  const audit = h('section', { id: 'audit', 'aria-label': 'Audit trail' });
  const toolbar = h('div', { class: 'toolbar' });
  const days = dateRange('stats', 'Statistics');
  const range = h(
    'form',
    { class: 'toolbar', id: 'stats-range' },
    days.elements,
    h('button', { type: 'submit', class: 'small' }, 'Show'),
    h('button', { type: 'button', id: 'stats-csv', class: 'small' }, 'Download CSV'),
  );
  /** `?from=&to=` of the chosen days, with `extra`, or nothing. */
  const period = (extra: Record<string, string> = {}) => {
    const text = days.apply(new URLSearchParams(extra)).toString();
    return text ? `?${text}` : '';
  };
  let selected: string | undefined;
  root.append(
    h('h2', {}, 'Oversight'),
    toolbar,
    range,
    h('div', { class: 'columns' }, deploymentStats, overall),
    publishedRecordSection(),
    audit,
  );

  const showDeployment = (id: string) => {
    selected = id;
    return api<DeploymentStats>(`/deployments/${id}/stats${period()}`).then(
      (stats) => {
        clear(deploymentStats);
        deploymentStats.append(statsBlock('This deployment', stats));
      },
      (error) => {
        clear(deploymentStats);
        deploymentStats.append(message(errorText(error), 'error'));
      },
    );
  };
  const showOverall = () =>
    api<OversightStats>(`/oversight/stats${period()}`).then(
      (stats) => {
        clear(overall);
        overall.append(statsBlock('All deployments', stats));
      },
      (error) => {
        clear(overall);
        overall.append(message(errorText(error), 'error'));
      },
    );
  range.addEventListener('submit', (event) => {
    event.preventDefault();
    if (selected) void showDeployment(selected);
    void showOverall();
  });
  range.querySelector('#stats-csv')?.addEventListener('click', () => {
    const path = selected ? `/deployments/${selected}/stats` : '/oversight/stats';
    void downloadFromApi(`${path}${period({ format: 'csv' })}`, 'vigil-statistics.csv').catch((error) => {
      deploymentStats.append(message(errorText(error), 'error'));
    });
  });

  const names = new Map<string, string>();
  listDeployments().then(
    (deployments) => {
      for (const d of deployments) names.set(d.id, d.location ? `${d.name} (${d.location})` : d.name);
      audit.append(auditTrailSection(names));
      if (deployments.length === 0) return;
      const picker = deploymentPicker(deployments, (id) => void showDeployment(id));
      toolbar.append(h('label', { for: 'deployment-picker' }, 'Deployment '), picker);
      void showDeployment(picker.value);
    },
    () => audit.append(auditTrailSection(names)),
  );
  void showOverall();

  const verify = h('p', { id: 'audit-verify', role: 'status' }, 'Checking the hash chain…');
  audit.append(h('h3', {}, 'Audit trail'), verify);
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
  return undefined;
};
