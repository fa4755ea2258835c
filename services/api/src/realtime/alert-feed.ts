import type {
  AdjudicationPayload,
  ClaimPayload,
  CropPayload,
  DispatchPayload,
  PurgedPayload,
  VerificationPayload,
} from '@vigil/contract';
import {
  ALERT_STREAM_SUBJECTS,
  allSubjects,
  type Bus,
  type BusSubscription,
  SUBJECT_VERSION,
} from '@vigil/core';
import { type Alert, decodeAlert } from '@vigil/proto';

/** A live event one API process tells every API process about, so each emits it to its own sockets. */
export type LiveEvent =
  | { type: 'adjudication'; payload: AdjudicationPayload }
  | { type: 'dispatch'; payload: DispatchPayload }
  | { type: 'claim'; payload: ClaimPayload }
  | { type: 'verification'; payload: VerificationPayload }
  | { type: 'purged'; payload: PurgedPayload }
  | { type: 'access'; payload: AccessChange };

/**
 * Someone's access may have shrunk: a user disabled, demoted or logged out (`userId`), or operators
 * unassigned from a deployment (`deploymentId`). Every API process re-checks the sockets concerned.
 */
export interface AccessChange {
  userId?: string;
  deploymentId?: string;
}

/**
 * Fan-out subjects on core NATS (never captured by JetStream: the alert stream takes only
 * `vigil.v1.*.alerts.*`). One API process takes each alert off the durable stream and republishes it
 * here; every API process subscribes without a queue group and emits to its own sockets.
 */
const liveAlertSubject = (deploymentId: string, cameraId: string) =>
  `vigil.${SUBJECT_VERSION}.${deploymentId}.live-alerts.${cameraId}`;
const liveEventSubject = (deploymentId: string) => `vigil.${SUBJECT_VERSION}.${deploymentId}.live-events.api`;
/** Access changes that concern no one deployment (a user's) travel on this token in the deployment's place. */
const ACCESS_EVENT_SUBJECT = `vigil.${SUBJECT_VERSION}.access.live-events.api`;
const ALL_LIVE_ALERTS = `vigil.${SUBJECT_VERSION}.*.live-alerts.*`;
const ALL_LIVE_EVENTS = `vigil.${SUBJECT_VERSION}.*.live-events.api`;

/** The alert in `data`, or undefined when it is not one this version can read. */
function readAlert(data: Uint8Array): Alert | undefined {
  try {
    return decodeAlert(data);
  } catch {
    return undefined;
  }
}

/** Live events waiting per API process before new ones are dropped (clients catch up with `since`). */
const LIVE_MAX_PENDING = 10_000;

/** The bus side of live alerts: the durable alert stream in, core fan-out subjects across API processes. */
export class AlertFeed {
  constructor(private readonly bus: Bus) {}

  /**
   * Consumes the durable alert stream as `consumerName` (API processes sharing the name share the
   * work) and hands each alert, still encoded, to `handler`; a handler that throws gets it again.
   */
  consumeStream(
    consumerName: string,
    handler: (alert: Alert, encoded: Uint8Array) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }> {
    return this.bus.durable.consume(
      { durableName: consumerName, filter: ALERT_STREAM_SUBJECTS[0], ackWaitSeconds: 30 },
      async (message) => {
        const alert = readAlert(message.data);
        // Not an alert we can read: acknowledged and dropped, never retried forever.
        if (alert) await handler(alert, message.data);
      },
    );
  }

  /** Tells every API process about an alert taken off the stream. */
  publishAlert(alert: Alert, encoded: Uint8Array): void {
    this.bus.publish(liveAlertSubject(alert.deploymentId, alert.cameraId), encoded);
  }

  publishEvent(deploymentId: string | undefined, event: LiveEvent): void {
    const subject = deploymentId ? liveEventSubject(deploymentId) : ACCESS_EVENT_SUBJECT;
    this.bus.publish(subject, new TextEncoder().encode(JSON.stringify(event)));
  }

  /** Receives every live alert and event any API process publishes. */
  subscribe(handlers: {
    alert: (alert: Alert) => void | Promise<void>;
    event: (event: LiveEvent) => void | Promise<void>;
    crop: (crop: CropPayload) => void | Promise<void>;
  }): BusSubscription[] {
    return [
      this.#subscribeAlerts(ALL_LIVE_ALERTS, handlers.alert),
      // The matcher's notice that an alert's crop was replaced (its ids only): every API process hears it.
      this.#subscribeAlerts(allSubjects('crops'), (notice) =>
        handlers.crop({ alertId: notice.id, deploymentId: notice.deploymentId }),
      ),
      this.bus.subscribe(
        ALL_LIVE_EVENTS,
        async (message) => {
          let event: LiveEvent;
          try {
            event = JSON.parse(new TextDecoder().decode(message.data)) as LiveEvent;
          } catch {
            return;
          }
          await handlers.event(event);
        },
        { maxPending: LIVE_MAX_PENDING },
      ),
    ];
  }

  /** `Alert` messages on `pattern`, unreadable ones dropped. */
  #subscribeAlerts(pattern: string, handler: (alert: Alert) => void | Promise<void>): BusSubscription {
    return this.bus.subscribe(
      pattern,
      async (message) => {
        const alert = readAlert(message.data);
        if (alert) await handler(alert);
      },
      { maxPending: LIVE_MAX_PENDING },
    );
  }

  /**
   * Erases from the durable stream every alert `match` selects (label, subject, camera and time
   * included), so none outlives its database row; unreadable messages are left to the stream's age.
   */
  eraseAlerts(match: (alert: Alert, storedAtMs: number) => boolean): Promise<number> {
    return this.bus.durable.erase((message) => {
      const alert = readAlert(message.data);
      return alert !== undefined && match(alert, message.storedAtMs);
    });
  }

  /** Resolves once everything published so far has left this process. */
  flush(): Promise<void> {
    return this.bus.flush();
  }
}
