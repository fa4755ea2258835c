import { allSubjects, type Bus, type BusSubscription, subject } from '@vigil/core';
import { type DeploymentChanged, decodeDeploymentChanged, encodeDeploymentChanged } from '@vigil/proto';

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

/**
 * Calls `stopped` with the id of each deployment the API stops. Every subscriber hears every notice
 * (no queue group); a message that is not a notice is ignored.
 */
export function onDeploymentStopped(bus: Bus, stopped: (deploymentId: string) => void): BusSubscription {
  return bus.subscribe(
    DEPLOYMENT_CONTROL_SUBJECTS,
    (message) => {
      let notice: DeploymentChanged;
      try {
        notice = decodeDeploymentChanged(message.data);
      } catch {
        return;
      }
      if (notice.reason === 'stopped' && notice.deploymentId) stopped(notice.deploymentId);
    },
    { maxPending: 64 },
  );
}
