import type { ParsedCameraUrl } from './camera-url.js';

export interface FfmpegInputOptions {
  /** Frames per second sampled from the stream. */
  fps: number;
  /** Files: play at the stream's own speed (`-re`), like a live camera. */
  realtime: boolean;
  /** Files: start again at the end (`-stream_loop -1`). */
  loop: boolean;
  /** MJPEG quality 2 (best) .. 31; 3 keeps a 1080p frame near 130 KB (proto/README.md). */
  jpegQuality?: number;
  /** CA bundle that signs rtsps:// and https:// cameras (VIGIL_CAMERA_CA_FILE); unset: the system's. */
  caFile?: string | undefined;
  /** http(s): follow no redirect (an allow-list of camera networks is configured). */
  refuseRedirects?: boolean;
}

/** Default `-q:v` for the frames on the bus (measured in proto/README.md). */
export const DEFAULT_JPEG_QUALITY = 3;

/**
 * ffmpeg's argument vector for one camera: decoded, sampled to `fps`, re-encoded as a stream of
 * JPEGs on stdout. Built as an array for `spawn` (never a shell), with the input's protocols
 * whitelisted so a URL cannot make ffmpeg open anything else.
 */
export function buildFfmpegArgs(source: ParsedCameraUrl, options: FfmpegInputOptions): string[] {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  if (source.kind === 'file') {
    if (options.realtime) args.push('-re');
    if (options.loop) args.push('-stream_loop', '-1');
  }
  if (source.kind === 'rtsp') args.push('-rtsp_transport', 'tcp');
  // TLS cameras are verified: certificate chain and host name (ffmpeg's default is to trust anyone).
  if (source.protocols.split(',').includes('tls')) {
    args.push('-tls_verify', '1');
    if (options.caFile) args.push('-ca_file', options.caFile);
  }
  // A redirect could lead anywhere, past the allowed camera networks.
  if (source.kind === 'http' && options.refuseRedirects) args.push('-max_redirects', '0');
  args.push('-protocol_whitelist', source.protocols, '-i', source.input);
  args.push(
    '-an',
    '-sn',
    '-dn',
    '-vf',
    `fps=${Number(options.fps.toFixed(3))}`,
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    '-q:v',
    String(options.jpegQuality ?? DEFAULT_JPEG_QUALITY),
    'pipe:1',
  );
  return args;
}
