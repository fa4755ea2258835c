/** "just now", "4 min ago", "2 h 10 min ago", "yesterday, 23:10", or the date: how long ago, in words. */
export function relativeTime(iso: string, now = Date.now()): string {
  const then = new Date(iso);
  if (Number.isNaN(then.getTime())) return iso;
  const seconds = Math.round((now - then.getTime()) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 12) return minutes % 60 === 0 ? `${hours} h ago` : `${hours} h ${minutes % 60} min ago`;
  const clock = then.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date(now);
  const yesterday = new Date(now - 86_400_000);
  if (then.toDateString() === today.toDateString()) return `today, ${clock}`;
  if (then.toDateString() === yesterday.toDateString()) return `yesterday, ${clock}`;
  return then.toLocaleString();
}

/** Elements showing a relative time carry `data-time` (ISO) and the absolute time as their title. */
export function timeElement(iso: string, className = 'when'): HTMLTimeElement {
  const element = document.createElement('time');
  element.className = className;
  element.dateTime = iso;
  element.dataset.time = iso;
  element.title = new Date(iso).toLocaleString();
  element.textContent = relativeTime(iso);
  return element;
}

/** Brings every relative time under `root` up to date (called on a timer). */
export function refreshTimes(root: ParentNode): void {
  for (const element of root.querySelectorAll<HTMLElement>('[data-time]'))
    element.textContent = relativeTime(element.dataset.time ?? '');
}
