import {
  allSubjects,
  type Bus,
  type BusSubscription,
  type Logger,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import { decodeEmbedding, type Embedding, encodeAlert } from '@vigil/proto';
import type { MatcherService } from './matcher.service.js';

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
        try {
          options.metrics?.queueDropped.inc({ stage: 'embeddings', reason: 'decode_error' });
        } catch {}
        return;
      }
      const outcome = await service.handle(embedding);
      if (outcome.kind !== 'alert') return;
      const { alert } = outcome;
      try {
        await bus.durable.publish(subject('alerts', alert.deploymentId, alert.cameraId), encodeAlert(alert));
      } catch (error) {
        // The row is stored: the API still lists it and sockets catch up from the database.
        logger.error({ err: error, alert: alert.id }, 'alert stored but not published');
      }
    },
    { queue: 'matcher', concurrency: options.concurrency ?? 4, maxPending: options.maxPending ?? 1024 },
  );
  logger.info({ subject: subscription.subject }, 'matcher worker listening');
  return {
    subscription,
    async stop() {
      await subscription.drain();
    },
  };
}
