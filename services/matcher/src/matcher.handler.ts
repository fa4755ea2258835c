import {
  allSubjects,
  type Bus,
  type BusSubscription,
  type Logger,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import { decodeDeploymentChanged, decodeEmbedding, type Embedding, encodeAlert } from '@vigil/proto';
import type { AlertScenes } from './alert-scene.js';
import type { MatchedAlertRepository, UnpublishedAlert } from './matched-alert.repository.js';
import type { MatcherService, UpgradedCrop } from './matcher.service.js';

export interface MatcherWorkerOptions {
  bus: Bus;
  service: MatcherService;
  logger: Logger;
  /** Counts messages dropped because they are not embeddings. */
  metrics?: VigilMetrics;
  /** Embeddings handled at once (each is a database round trip). */
  concurrency?: number;
  maxPending?: number;
  subject?: string;
  /** The alerts table: with it, the worker marks published alerts and republishes any a crash left behind. */
  alerts?: MatchedAlertRepository;
  /** How often the outbox is swept (ms). */
  outboxIntervalMs?: number;
  /** With it, each new alert's scene is asked of the detectors and stored with it. */
  scenes?: AlertScenes;
}

/** Seconds an alert may stay unpublished before the outbox sweep republishes it. */
const OUTBOX_GRACE_SECONDS = 10;

/**
 * Publishes a stored alert on the durable stream, keyed by deployment and alert id (alert ids are
 * per database: two Vigil databases on one NATS must not collide) so a republish within
 * JetStream's duplicate window is stored once. The crop stays out of the message: the stream
 * would keep it unencrypted, so the API reads the sealed crop from the database instead.
 */
export async function publishAlert(bus: Bus, alert: UnpublishedAlert): Promise<void> {
  await bus.durable.publish(
    subject('alerts', alert.deploymentId, alert.cameraId),
    encodeAlert({ ...alert, probeJpeg: new Uint8Array(0) }),
    { msgId: `alert-${alert.deploymentId}-${alert.id}` },
  );
}

/**
 * Tells the API that an alert's crop was replaced (an Alert message holding its ids only), so
 * consoles showing it fetch the new one. Core NATS: a lost notice leaves the earlier crop on screen
 * until the next reload, nothing worse.
 */
export function publishCropUpgraded(bus: Bus, crop: UpgradedCrop): void {
  bus.publish(
    subject('crops', crop.deploymentId, crop.cameraId),
    encodeAlert({ id: crop.alertId, deploymentId: crop.deploymentId, cameraId: crop.cameraId }),
  );
}

export interface MatcherWorker {
  readonly subscription: BusSubscription;
  stop(): Promise<void>;
}

/**
 * The matcher role's handler: embeddings in (queue group `matcher`); each stored alert published
 * on the durable stream (JetStream on NATS) after its row is committed.
 */
export function startMatcherWorker(options: MatcherWorkerOptions): MatcherWorker {
  const { bus, service, logger } = options;
  const subscription = bus.subscribe(
    options.subject ?? allSubjects('embeddings'),
    async (message) => {
      let embedding: Embedding;
      try {
        embedding = decodeEmbedding(message.data);
      } catch {
        // Not an embedding: dropped and counted here, not thrown into the bus where nothing counts it.
        options.metrics?.queueDropped.inc({ stage: 'embeddings', reason: 'decode_error' });
        return;
      }
      const outcome = await service.handle(embedding);
      if (outcome.kind === 'suppressed' && outcome.cropUpgraded)
        publishCropUpgraded(bus, outcome.cropUpgraded);
      if (outcome.kind !== 'alert') return;
      const { alert } = outcome;
      alert.probeJpeg.fill(0);
      try {
        await publishAlert(bus, alert);
        await options.alerts?.markPublished(alert.id);
      } catch (error) {
        // The row is stored: the outbox sweep republishes it, and sockets catch up from the database.
        logger.error({ err: error, alert: alert.id }, 'alert stored but not published');
      }
      if (outcome.source) options.scenes?.keep(alert.id, outcome.source);
    },
    { queue: 'matcher', concurrency: options.concurrency ?? 4, maxPending: options.maxPending ?? 1024 },
  );
  logger.info({ subject: subscription.subject }, 'matcher worker listening');
  // Every matcher hears every notice (no queue group): each forgets a stopped deployment's series.
  const control = bus.subscribe(
    allSubjects('control'),
    (message) => {
      try {
        const notice = decodeDeploymentChanged(message.data);
        if (notice.reason === 'stopped' && notice.deploymentId)
          service.deploymentStopped(notice.deploymentId);
      } catch {} // not a notice: nothing to forget
    },
    { maxPending: 64 },
  );
  let sweeping: Promise<void> = Promise.resolve();
  const sweep = async () => {
    if (!options.alerts) return;
    try {
      for (const alert of await options.alerts.unpublished(OUTBOX_GRACE_SECONDS)) {
        await publishAlert(bus, alert);
        await options.alerts.markPublished(alert.id);
        logger.warn({ alert: alert.id }, 'republished an alert a stopped matcher had not published');
      }
    } catch (error) {
      logger.warn({ err: error }, 'alert outbox sweep failed; retrying');
    }
  };
  const timer = options.alerts
    ? setInterval(() => {
        sweeping = sweeping.then(sweep);
      }, options.outboxIntervalMs ?? 5000)
    : undefined;
  timer?.unref();
  return {
    subscription,
    async stop() {
      control.unsubscribe();
      if (timer) clearInterval(timer);
      await subscription.drain();
      await options.scenes?.settled();
      await sweeping;
    },
  };
}
