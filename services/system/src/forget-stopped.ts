import type { Bus, VigilMetrics } from '@vigil/core';
import { onDeploymentStopped } from '@vigil/ingest';

/** After a stop notice, frames and faces still in flight are counted before the series go. */
export const FORGET_AFTER_MS = 5000;

/**
 * Drops a stopped deployment's series from this process's registry when the API's stop notice
 * comes, for the roles that label series by deployment and keep no deployment state of their own
 * (detector, embedder): a split-role process kept them in `/metrics` until it restarted. Returns
 * the unsubscribe.
 */
export function forgetStoppedDeployments(
  bus: Bus,
  metrics: VigilMetrics,
  afterMs = FORGET_AFTER_MS,
): () => void {
  const timers = new Set<NodeJS.Timeout>();
  const subscription = onDeploymentStopped(bus, (deploymentId) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      try {
        metrics.forgetDeployment(deploymentId);
      } catch {} // a metric never stops a worker
    }, afterMs);
    timer.unref();
    timers.add(timer);
  });
  return () => {
    subscription.unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
}
