/**
 * Statistics as a report can quote them: each figure named in words, rates as percentages, times in
 * the reader's local time; identifiers and per-hour series are left out (the charts show those).
 */

const LABELS: Record<string, string> = {
  name: 'Deployment',
  location: 'Location',
  status: 'Status',
  model: 'Recognition model',
  threshold: 'Match threshold',
  durationSeconds: 'Time running',
  startedAt: 'Started',
  stoppedAt: 'Stopped',
  from: 'From',
  to: 'Before',
  framesRead: 'Frames read from the cameras',
  framesProcessed: 'Frames analysed',
  watchedShare: 'Share of frames analysed',
  facesProcessed: 'Faces compared with the watchlist',
  alerts: 'Alerts',
  trueAlerts: 'True alerts (confirmed, engaged or arrested)',
  falseAlerts: 'False alerts',
  'falseAlertRate.perFacesProcessed': 'False alerts per face compared',
  'falseAlertRate.perAlerts': 'Share of alerts that were false',
  'watchlist.size': 'People on the watchlists',
  'framesNotAnalysed.total': 'Frames not analysed',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** `facesProcessed` → "Faces processed", for figures without a label of their own. */
function words(key: string): string {
  const last = key.split('.').pop() ?? key;
  const spaced = last
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function duration(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min`;
}

function value(key: string, raw: unknown): string {
  if (raw === null || raw === undefined) return 'not measured';
  if (typeof raw === 'number') {
    if (key === 'durationSeconds') return duration(raw);
    if (/share|perAlerts/i.test(key)) return `${(raw * 100).toFixed(1)}%`;
    if (/perFacesProcessed/.test(key))
      return raw === 0 ? '0' : `1 in ${Math.round(1 / raw).toLocaleString()}`;
    return Number.isInteger(raw) ? raw.toLocaleString() : raw.toFixed(2);
  }
  const text = String(raw);
  return ISO_TIME.test(text) ? new Date(text).toLocaleString() : text;
}

/** The figures of a stats answer as `[label, value]` rows, in words. */
export function statRows(stats: unknown, prefix = ''): [string, string][] {
  if (stats === null || typeof stats !== 'object' || Array.isArray(stats)) return [];
  const rows: [string, string][] = [];
  for (const [key, raw] of Object.entries(stats as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    // Identifiers, the charted series and the per-outcome counts (the bar chart) are not figures.
    if (/ids?$/i.test(key) || /^(series|hours|outcomes|byReason|byCategory)$/.test(key)) continue;
    if (typeof raw === 'string' && UUID.test(raw)) continue;
    // Lists (each deployment's summary) are counted elsewhere in the figures.
    if (Array.isArray(raw)) continue;
    if (raw !== null && typeof raw === 'object') {
      // `totals` holds the figures across deployments: they read as the figures themselves.
      rows.push(...statRows(raw, key === 'totals' ? '' : path));
      continue;
    }
    rows.push([LABELS[path] ?? words(path), value(key, raw)]);
  }
  return rows;
}
