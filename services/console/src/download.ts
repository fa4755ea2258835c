import { ApiError } from './api.client.js';
import { loadSession } from './session.js';

/** Saves `blob` as a file named `name` (the browser's download, from this page). */
export function saveFile(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** One CSV field: quoted when it holds a comma, quote or line break; formula-looking text defused. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  // A cell starting with = + - @ is run as a formula by spreadsheets (CSV injection).
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Fetches an API file (CSV, with the bearer token) and saves it. */
export async function downloadFromApi(path: string, name: string): Promise<void> {
  const token = loadSession()?.token;
  const response = await fetch(`/api/v1${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!response.ok)
    throw new ApiError(response.status, 'download_failed', `download failed (${response.status})`);
  saveFile(name, await response.blob());
}
