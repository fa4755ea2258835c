import { type Logger, pino } from 'pino';
import { type LogFormat, resolveLogFormat, textLogStream } from './log-text.js';

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
  /** `text` for a person, `json` (default) for a collector, `auto`: text when the output is a terminal. */
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  const settings = {
    level,
    name: options.name ?? 'vigil',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  const out = options.destination ?? process.stdout;
  const isTerminal = Boolean((out as NodeJS.WriteStream).isTTY);
  if (resolveLogFormat(options.format ?? 'json', isTerminal) === 'text')
    return pino(settings, textLogStream(out) as never);
  return options.destination ? pino(settings, options.destination as never) : pino(settings);
}
