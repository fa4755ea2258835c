import { describe, expect, it } from 'vitest';
import { formatLogLine, resolveLogFormat } from './log-text.js';

describe('log lines for a person (issue #23)', () => {
  it('writes level, message and fields in words, without pid, hostname or the JSON braces', () => {
    const line = formatLogLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 11, 6, 5, 30, 0),
        pid: 42,
        hostname: 'van-1',
        name: 'vigil',
        msg: 'camera offline',
        camera: 'North gate',
        err: { type: 'Error', message: 'connection refused', stack: 'Error: connection refused\n at x' },
      }),
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d WARN {2}camera offline \(camera: North gate, err: connection refused\)\n$/,
    );
    expect(line).not.toContain('pid');
    expect(line).not.toContain('van-1');
  });

  it('passes a line that is not JSON unchanged', () => {
    expect(formatLogLine('plain words')).toBe('plain words\n');
  });

  it('picks text at a terminal and JSON elsewhere unless told', () => {
    expect(resolveLogFormat('auto', true)).toBe('text');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('text', false)).toBe('text');
  });
});
