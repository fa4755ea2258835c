import type { SubjectHistory } from '@vigil/contract';
import { api } from '../api.client.js';
import { formatTime, h } from '../dom.js';
import { errorText } from './shared.js';

const PAGE = 20;

/**
 * What happened to a subject, in words and local times, newest first: enrolment, each edit with
 * its from and to, approval, the deployments that searched for them, their alerts and outcomes.
 */
export function subjectHistorySection(subjectId: string): HTMLElement {
  const list = h('ol', { class: 'subject-history', id: 'subject-history' });
  const alerts = h('p', { class: 'muted', id: 'subject-alerts' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading the history…');
  const older = h('button', { type: 'button', class: 'small', hidden: true }, 'Older entries');
  let offset = 0;

  const load = () => {
    api<SubjectHistory>(`/subjects/${subjectId}/history?limit=${PAGE}&offset=${offset}`).then(
      (page) => {
        status.textContent = offset === 0 && page.entries.length === 0 ? 'Nothing recorded yet.' : '';
        alerts.textContent = page.alerts.text;
        for (const entry of page.entries)
          list.append(
            h(
              'li',
              { 'data-kind': entry.kind },
              h('time', { dateTime: entry.at, class: 'when' }, formatTime(entry.at)),
              h('span', {}, entry.text),
              entry.changes
                ? h(
                    'ul',
                    { class: 'changes' },
                    entry.changes.map((change) =>
                      h(
                        'li',
                        {},
                        h('span', { class: 'field' }, `${change.field}: `),
                        h('del', {}, change.from),
                        ' → ',
                        h('ins', {}, change.to),
                      ),
                    ),
                  )
                : null,
            ),
          );
        offset = page.nextOffset ?? offset;
        older.hidden = page.nextOffset === null;
      },
      (error) => {
        status.textContent = `The history could not be loaded: ${errorText(error)}`;
      },
    );
  };
  older.addEventListener('click', load);
  load();
  return h(
    'section',
    { class: 'subject-history-section' },
    h('h4', {}, 'History'),
    alerts,
    list,
    status,
    older,
  );
}
