import { VigilError } from '../errors.js';

/**
 * The only label names a Vigil metric may carry. Deployment and camera ids are UUIDs chosen by the
 * system; stage, role and reason are words from a fixed vocabulary. Nothing a person typed (a name,
 * a label, a note) and nothing derived from a face (a track, a subject, a score) can pass.
 */
export const LABEL_NAMES = ['deployment', 'camera', 'stage', 'role', 'reason'] as const;
export type LabelName = (typeof LABEL_NAMES)[number];
export type Labels<L extends LabelName> = { [K in L]: string };

/** A metric label value that is neither a UUID (deployment, camera) nor a known token (stage, role, reason). */
export class MetricLabelError extends VigilError {
  override readonly name = 'MetricLabelError';
  constructor(message: string) {
    super('invalid_metric_label', message, 500);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Shape of a vocabulary word: short, lower-case, no digits-only or free text. */
const TOKEN = /^[a-z][a-z0-9_]{0,31}$/;

const UUID_LABELS: ReadonlySet<LabelName> = new Set(['deployment', 'camera']);

const vocabulary: Record<'stage' | 'role' | 'reason', Set<string>> = {
  role: new Set(['all', 'ingest', 'detector', 'embedder', 'matcher', 'api']),
  stage: new Set([
    // pipeline stages, in the order a frame meets them
    'ingest',
    'decode',
    'detect',
    'track',
    'quality',
    'align',
    'embed',
    'match',
    'alert',
    'store',
    'publish',
    // bus subject kinds, for queue depths and drops per subscription
    'frames',
    'faces',
    'embeddings',
    'alerts',
    'status',
    'counters',
    'control',
    // model and database work
    'model_load',
    'match_query',
    'alert_insert',
    'counters_upsert',
    'snapshot_load',
    'reconcile',
    'http',
  ]),
  reason: new Set([
    'queue_full',
    'slow_consumer',
    'stale',
    'decode_error',
    'invalid_frame',
    'no_face',
    'multiple_faces',
    'face_too_small',
    'low_quality',
    'duplicate',
    'cooldown',
    'not_running',
    'ffmpeg_exit',
    'stall',
    'spawn_error',
    'error',
    'timeout',
    'shutdown',
    'crash',
    'signal',
    'unavailable',
    'other',
  ]),
};

/**
 * Adds words to the vocabulary of `stage`, `role` or `reason` (for a pipeline stage or drop reason
 * this file does not list yet). Each must be a short lower-case token; call it at module load.
 */
export function allowLabelTokens(label: 'stage' | 'role' | 'reason', ...tokens: string[]): void {
  for (const token of tokens) {
    if (!TOKEN.test(token))
      throw new MetricLabelError(`${label} token ${JSON.stringify(token)} is not a short lower-case word`);
  }
  for (const token of tokens) vocabulary[label].add(token);
}

/** True when `value` may be the value of label `name`. */
export function isSafeLabelValue(name: string, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (UUID_LABELS.has(name as LabelName)) return UUID.test(value);
  if (!Object.hasOwn(vocabulary, name)) return false;
  return vocabulary[name as 'stage' | 'role' | 'reason'].has(value);
}

/**
 * Throws MetricLabelError unless every label is one of LABEL_NAMES and every value is a UUID
 * (deployment, camera) or a known token (stage, role, reason). The offending value is not echoed
 * in the message: it may be the very thing that must not leak.
 */
export function assertSafeLabels(labels: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(labels)) {
    if (!(LABEL_NAMES as readonly string[]).includes(name)) {
      throw new MetricLabelError(`metric label ${JSON.stringify(name)} is not allowed`);
    }
    if (!isSafeLabelValue(name, value)) {
      const want = UUID_LABELS.has(name as LabelName) ? 'a UUID' : 'a known token';
      throw new MetricLabelError(`metric label ${name} must be ${want}`);
    }
  }
}
