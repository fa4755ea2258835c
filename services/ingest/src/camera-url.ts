import path from 'node:path';
import { InvalidCameraUrlError } from './ingest.errors.js';

export type CameraSourceKind = 'rtsp' | 'http' | 'file';

export interface ParsedCameraUrl {
  kind: CameraSourceKind;
  /** What ffmpeg gets after `-i`: the URL, or `file:` + the absolute path for local files. */
  input: string;
  /** `-protocol_whitelist` for this kind: ffmpeg opens nothing else (no concat:, data:, subfile:). */
  protocols: string;
}

/** Longest URL accepted; real camera URLs are far shorter. */
const MAX_URL_LENGTH = 2048;

// C0 controls, DEL and C1 controls: a newline or NUL in a URL is an injection attempt, never a camera.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// Shell syntax (`;`, backticks, `$(`, `${`): ffmpeg runs without a shell, but no camera URL holds
// these, and a value that does is an injection attempt that a wrapper script could one day execute.
const SHELL = /[;`]|\$[({]/;

const PROTOCOLS: Record<string, { kind: CameraSourceKind; protocols: string }> = {
  rtsp: { kind: 'rtsp', protocols: 'rtsp,rtp,udp,tcp' },
  rtsps: { kind: 'rtsp', protocols: 'rtsp,rtsps,rtp,udp,tcp,tls' },
  http: { kind: 'http', protocols: 'http,tcp,hls,crypto' },
  https: { kind: 'http', protocols: 'http,https,tcp,tls,hls,crypto' },
};

/**
 * Checks a camera URL and says how ffmpeg may open it: `rtsp://`, `rtsps://`, `http(s)://` (MJPEG,
 * HLS) or a plain local file path. Anything else — another scheme, a value starting with `-` that
 * ffmpeg would read as an option, control characters — is refused with `invalid_camera_url`.
 */
export function parseCameraUrl(url: string): ParsedCameraUrl {
  if (typeof url !== 'string' || url.trim() === '') throw new InvalidCameraUrlError('camera url is empty');
  if (url.length > MAX_URL_LENGTH) throw new InvalidCameraUrlError('camera url is too long');
  if (CONTROL.test(url)) throw new InvalidCameraUrlError('camera url holds control characters');
  if (url.startsWith('-')) throw new InvalidCameraUrlError('camera url may not start with "-"');
  if (url !== url.trim()) throw new InvalidCameraUrlError('camera url has leading or trailing spaces');
  if (SHELL.test(url)) throw new InvalidCameraUrlError('camera url holds shell syntax');
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    // A colon in a path is ffmpeg protocol syntax (`subfile,,start,0,,:/etc/passwd`), never a camera.
    if (url.includes(':')) throw new InvalidCameraUrlError('a camera file path may not hold ":"');
    return { kind: 'file', input: `file:${path.resolve(url)}`, protocols: 'file' };
  }
  const known = PROTOCOLS[scheme];
  if (!known) {
    throw new InvalidCameraUrlError(
      `camera url scheme ${JSON.stringify(scheme)} is not allowed; use rtsp://, rtsps://, http(s):// or a file path`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidCameraUrlError('camera url is not a valid URL');
  }
  if (!parsed.hostname) throw new InvalidCameraUrlError('camera url has no host');
  return { kind: known.kind, input: url, protocols: known.protocols };
}

/** True when `url` is a camera URL Vigil accepts (see {@link parseCameraUrl}). */
export function isValidCameraUrl(url: string): boolean {
  try {
    parseCameraUrl(url);
    return true;
  } catch {
    return false;
  }
}

/** A URL with any password replaced, fit for a log line. */
export function redactCameraUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
