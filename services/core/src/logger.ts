import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Paths that must never reach a log line, whatever a caller passes: credentials, tokens and
 * biometric payloads. Callers should not log them at all; this is the second line of defence.
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'embedding',
  '*.embedding',
  'image',
  '*.image',
  'probeImage',
  '*.probeImage',
  'crop',
  '*.crop',
  'frame',
  '*.frame',
  'jpeg',
  '*.jpeg',
];

export interface LoggerOptions {
  level?: string;
  name?: string;
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const settings = {
    level,
    name: options.name ?? 'vigil',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return options.destination ? pino(settings, options.destination as never) : pino(settings);
}
