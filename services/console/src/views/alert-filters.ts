import { h } from '../dom.js';

/** Which alerts the operator sees: every one, those still open, those they hold, or red only. */
const FILTERS = {
  all: 'All alerts',
  open: 'Waiting for an outcome',
  mine: 'Taken by me',
  unclaimed: 'Nobody handling them',
  red: 'Red priority only',
} as const;
type Filter = keyof typeof FILTERS;

function matches(filter: Filter, card: HTMLElement, me: string): boolean {
  if (filter === 'open') return !card.dataset.outcome;
  if (filter === 'mine') return card.dataset.claimedBy === me;
  if (filter === 'unclaimed') return !card.dataset.claimedBy && !card.dataset.outcome;
  if (filter === 'red') return card.classList.contains('priority-red');
  return true;
}

/** A filter `<select>` over the alert list and the line that says what an empty list means. */
export class AlertFilters {
  readonly select = h(
    'select',
    { id: 'alert-filter', 'aria-label': 'Show' },
    Object.entries(FILTERS).map(([value, label]) => h('option', { value }, label)),
  );
  readonly empty = h('p', { id: 'alert-empty', class: 'empty-state', role: 'status' });
  /** What the deployment is doing, for the empty state (from the status poll). */
  watching = '';

  constructor(
    private readonly list: HTMLElement,
    private readonly me: string,
  ) {
    this.select.addEventListener('change', () => this.apply());
  }

  /** Shows the cards the filter keeps and says why the list is empty when it is. */
  apply(): void {
    const filter = this.select.value as Filter;
    const cards = [...this.list.querySelectorAll<HTMLElement>('.alert-card')];
    let shown = 0;
    for (const card of cards) {
      const keep = matches(filter, card, this.me);
      card.hidden = !keep;
      if (keep) shown++;
    }
    this.empty.hidden = shown > 0;
    this.empty.textContent =
      cards.length === 0
        ? `No alerts yet. ${this.watching} An alert appears here as soon as a face on the watchlist is seen; red ones sound an alarm.`
        : `None of the ${cards.length} alerts is ${FILTERS[filter].toLowerCase()}. Choose “All alerts” to see them.`;
  }
}
