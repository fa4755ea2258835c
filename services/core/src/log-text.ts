/**
 * Log lines for a person at a terminal: `12:04:31 WARN  message (key: value)` instead of pino's JSON.
 * `VIGIL_LOG_FORMAT=auto` picks these when stdout is a terminal and JSON lines otherwise.
 */

export type LogFormat = 'auto' | 'text' | 'json';

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Fields every pino line carries, which a person reading the terminal does not need. */
const HIDDEN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

/** `text` or `json` for the configured format and whether stdout is a terminal. */
export function resolveLogFormat(format: LogFormat, stdoutIsTerminal: boolean): 'text' | 'json' {
  if (format === 'auto') return stdoutIsTerminal ? 'text' : 'json';
  return format;
}

function describeValue(value: unknown): string {
  if (value && typeof value === 'object') {
    const message = (value as { message?: unknown }).message;
    if (typeof message === 'string') return message;
    return JSON.stringify(value);
  }
  return String(value);
}

/** One pino JSON line as one line of text; a line that is not JSON passes unchanged. */
export function formatLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const time = typeof record.time === 'number' ? new Date(record.time) : new Date();
  const clock = time.toTimeString().slice(0, 8);
  const level = (LEVEL_NAMES[Number(record.level)] ?? 'INFO').padEnd(5);
  const details = Object.entries(record)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) => `${key}: ${describeValue(value)}`);
  const message = typeof record.msg === 'string' ? record.msg : '';
  return `${clock} ${level} ${message}${details.length > 0 ? ` (${details.join(', ')})` : ''}\n`;
}

/** A pino destination writing text lines to `out`. */
export function textLogStream(out: NodeJS.WritableStream): { write(line: string): boolean } {
  return { write: (line: string) => out.write(formatLogLine(line)) };
}
