/** One sample of the Prometheus text exposition format. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

/**
 * Parses Prometheus text format 0.0.4 strictly: every line is a HELP/TYPE comment, blank, or a
 * sample with well-formed labels and a number; anything else throws. Used by tests and by scripts
 * that read a process's /metrics.
 */
export function parsePrometheusText(text: string): {
  samples: PrometheusSample[];
  types: Map<string, string>;
} {
  const samples: PrometheusSample[] = [];
  const types = new Map<string, string>();
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!comment || !NAME.test(comment[2] as string)) throw new Error(`line ${index + 1}: bad comment`);
      if (comment[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(comment[3] ?? '')) {
          throw new Error(`line ${index + 1}: bad type`);
        }
        types.set(comment[2] as string, comment[3] as string);
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`line ${index + 1}: not a sample: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const label = LABEL.exec(body);
      if (!label) throw new Error(`line ${index + 1}: bad labels`);
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
    const raw = (match[3] as string).toLowerCase();
    const value = /^[+]?inf$/.test(raw)
      ? Number.POSITIVE_INFINITY
      : raw === '-inf'
        ? Number.NEGATIVE_INFINITY
        : raw === 'nan'
          ? Number.NaN
          : Number(raw);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`line ${index + 1}: bad value`);
    samples.push({ name: match[1] as string, labels, value });
  }
  return { samples, types };
}
