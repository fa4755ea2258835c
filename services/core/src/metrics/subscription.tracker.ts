import type { BusSubscription } from '../bus/bus.js';
import { assertSafeLabels } from './label-guard.js';
import type { VigilMetrics } from './metrics.registry.js';

/** How often queue depths are sampled: often enough for a 15 s scrape, cheap enough to ignore. */
export const QUEUE_SAMPLE_INTERVAL_MS = 1_000;

/**
 * Samples a bus subscription's backlog into `vigil_queue_depth{stage}` and its drops into
 * `vigil_queue_dropped_total{stage,reason="queue_full"}` every second, until the returned function
 * is called. This is the queue depth the KEDA scaler in deploy/k8s reads for detectors and embedders:
 * call it with stage `frames` for the detector's frame subscription and `faces` for the embedder's.
 */
export function trackSubscription(
  metrics: VigilMetrics,
  stage: string,
  subscription: Pick<BusSubscription, 'pending' | 'dropped'>,
  intervalMs = QUEUE_SAMPLE_INTERVAL_MS,
): () => void {
  // Validates the stage once, up front: a bad token fails the caller at start rather than being
  // refused quietly every second.
  assertSafeLabels({ stage });
  metrics.queueDepth.set({ stage }, subscription.pending);
  let dropped = subscription.dropped;
  const sample = () => {
    metrics.queueDepth.set({ stage }, subscription.pending);
    const now = subscription.dropped;
    if (now > dropped) metrics.queueDropped.inc({ stage, reason: 'queue_full' }, now - dropped);
    dropped = now;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
  };
}
