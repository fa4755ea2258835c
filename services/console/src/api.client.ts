import { loadSession, saveSession } from './session.js';

/** An error answer of the API: `{"error":{"code","message"}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};
/** Called when the server says the token is no longer good (the console shows the login again). */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function parse(response: Response): Promise<unknown> {
  const type = response.headers.get('content-type') ?? '';
  if (response.status === 204) return null;
  return type.includes('application/json') ? response.json() : response.text();
}

/** Calls `/api/v1${path}` with the session's bearer token. */
export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; form?: FormData } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  const token = loadSession()?.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`/api/v1${path}`, { method: options.method ?? 'GET', headers, body });
  const data = await parse(response);
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
    if (response.status === 401 && token) {
      saveSession(null);
      onUnauthorized();
    }
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? response.statusText,
      data,
    );
  }
  return data as T;
}

const imageCache = new Map<string, Promise<string>>();

/** A protected image (reference photos need the bearer token) as a blob: URL the page may show. */
export function protectedImage(url: string): Promise<string> {
  let cached = imageCache.get(url);
  if (!cached) {
    cached = (async () => {
      const token = loadSession()?.token;
      const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      if (!response.ok) throw new ApiError(response.status, 'image_unavailable', 'image unavailable');
      return URL.createObjectURL(await response.blob());
    })();
    cached.catch(() => imageCache.delete(url));
    imageCache.set(url, cached);
  }
  return cached;
}

/** Forgets cached images (on logout). */
export function forgetImages(): void {
  for (const url of imageCache.values()) url.then(URL.revokeObjectURL, () => {});
  imageCache.clear();
}
