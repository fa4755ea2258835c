import { allSubjects, type Bus, subject } from '@vigil/core';
import { encodeDeploymentChanged } from '@vigil/proto';

/** The one camera token of control subjects: `vigil.v1.<deployment>.control.deployment`. */
export const CONTROL_TOKEN = 'deployment';

/** What ingest subscribes to for change notices. */
export const DEPLOYMENT_CONTROL_SUBJECTS = allSubjects('control');

/**
 * Tells every ingest process that a deployment started, stopped or changed its cameras, so it
 * reconciles now rather than at its next poll. The API calls this after committing the change.
 */
export function notifyDeploymentChanged(
  bus: Bus,
  deploymentId: string,
  reason: 'started' | 'stopped' | 'cameras' = 'cameras',
): void {
  bus.publish(
    subject('control', deploymentId, CONTROL_TOKEN),
    encodeDeploymentChanged({ deploymentId, reason }),
  );
}
