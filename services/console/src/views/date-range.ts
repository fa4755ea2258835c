import { h } from '../dom.js';

/**
 * From and Until day pickers (`#<prefix>-from`, `#<prefix>-to`). `apply` puts the chosen days on a
 * query as the API reads them: `from` inclusive, `to` exclusive, so "until" a day includes it.
 */
export function dateRange(prefix: string, subject: string) {
  const from = h('input', { id: `${prefix}-from`, type: 'date', 'aria-label': `${subject} from` });
  const to = h('input', { id: `${prefix}-to`, type: 'date', 'aria-label': `${subject} until` });
  return {
    elements: [h('label', { for: from.id }, 'From'), from, h('label', { for: to.id }, 'Until'), to],
    apply(params: URLSearchParams): URLSearchParams {
      if (from.value) params.set('from', from.value);
      if (to.value) params.set('to', new Date(Date.parse(to.value) + 86_400_000).toISOString().slice(0, 10));
      return params;
    },
  };
}
