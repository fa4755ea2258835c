import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection, nanos } from '@nats-io/transport-node';
import type {
  Bus,
  BusHandler,
  BusMessage,
  BusSubscription,
  ConsumeOptions,
  DurableMessage,
  DurableStream,
  StoredMessage,
  SubscribeOptions,
} from './bus.js';
import { DEFAULT_MAX_PENDING, type ErrorListener, QueuedSubscription } from './queued-subscription.js';
import { ALERT_STREAM_SUBJECTS } from './subjects.js';

export interface NatsBusOptions {
  /** nats://host:port, comma-separated for a cluster. */
  url: string;
  name?: string;
  credsFile?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  /** CA file; when set, TLS is required. */
  caFile?: string | undefined;
  /** JetStream stream that holds alerts. */
  alertStream?: string;
  /** Replicas of the alert stream (3 on a cluster). */
  alertReplicas?: number;
  /** Days alerts stay in the stream: VIGIL_ALERT_RETENTION_DAYS, so none outlives its database row. */
  alertMaxAgeDays?: number;
}

/**
 * The shortest age the alert stream keeps messages, whatever the retention: an API process down for
 * a while must still find what to fan out (clients missing any catch up from the database).
 */
export const MIN_ALERT_STREAM_AGE_MS = 60 * 60_000;
/** Stored messages read per fetch while erasing. */
const ERASE_BATCH = 256;

class JetStreamDurable implements DurableStream {
  #ready: Promise<{ js: JetStreamClient; jsm: JetStreamManager }> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly replicas: number,
    private readonly maxAgeDays: number,
  ) {}

  /** Creates the alert stream on first use; only alert subjects are ever captured. */
  #setup(): Promise<{ js: JetStreamClient; jsm: JetStreamManager }> {
    this.#ready ??= (async () => {
      const jsm = await jetstreamManager(this.nc);
      const config = {
        name: this.stream,
        subjects: [...ALERT_STREAM_SUBJECTS],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: this.replicas,
        // JetStream reads max_age 0 as "forever": never below the floor.
        max_age: nanos(Math.max(this.maxAgeDays * 24 * 3600 * 1000, MIN_ALERT_STREAM_AGE_MS)),
        duplicate_window: nanos(120_000),
      };
      try {
        await jsm.streams.info(this.stream);
        await jsm.streams.update(this.stream, config);
      } catch {
        await jsm.streams.add(config);
      }
      return { js: jetstream(this.nc), jsm };
    })();
    return this.#ready;
  }

  async publish(
    subject: string,
    data: Uint8Array,
    options: { msgId?: string } = {},
  ): Promise<{ sequence: number; duplicate?: boolean }> {
    const { js } = await this.#setup();
    const ack = await js.publish(subject, data, options.msgId ? { msgID: options.msgId } : undefined);
    return { sequence: ack.seq, duplicate: ack.duplicate };
  }

  async erase(match: (message: StoredMessage) => boolean): Promise<number> {
    const { js, jsm } = await this.#setup();
    const { state } = await jsm.streams.info(this.stream);
    if (state.messages === 0) return 0;
    // An ordered consumer reads the stream once, start to end, and leaves nothing behind.
    const consumer = await js.consumers.get(this.stream);
    const selected: number[] = [];
    let done = false;
    while (!done) {
      const batch = await consumer.fetch({ max_messages: ERASE_BATCH, expires: 2000 });
      let seen = 0;
      for await (const m of batch) {
        seen++;
        const message = {
          subject: m.subject,
          data: m.data,
          sequence: m.seq,
          storedAtMs: m.info.timestampNanos / 1e6,
        };
        if (match(message)) selected.push(m.seq);
        if (m.seq >= state.last_seq || m.info.pending === 0) done = true;
        // Stop at the last message: the batch would otherwise wait out `expires` for more (2 s a
        // call, paid by every subject deletion and retention run).
        if (done) break;
      }
      if (seen === 0) done = true;
    }
    let erased = 0;
    for (const sequence of selected) {
      // `erase` overwrites the message on disk; a message already gone (max_age) counts as erased.
      const ok = await jsm.streams.deleteMessage(this.stream, sequence, true).catch(() => false);
      if (ok) erased++;
    }
    return erased;
  }

  async consume(
    options: ConsumeOptions,
    handler: (message: DurableMessage) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }> {
    const { js, jsm } = await this.#setup();
    await jsm.consumers.add(this.stream, {
      durable_name: options.durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: options.filter,
      ack_wait: nanos((options.ackWaitSeconds ?? 30) * 1000),
    });
    const consumer = await js.consumers.get(this.stream, options.durableName);
    const messages = await consumer.consume({ max_messages: 64 });
    const loop = (async () => {
      for await (const m of messages) {
        try {
          await handler({ subject: m.subject, data: m.data, sequence: m.seq });
          m.ack();
        } catch {
          // Not acknowledged: JetStream delivers it again after a short delay.
          m.nak(1000);
        }
      }
    })();
    return {
      async stop() {
        await messages.close();
        await loop;
      },
    };
  }
}

/** The bus on a NATS server or cluster: core subjects for frames, faces and embeddings; JetStream for alerts. */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  readonly durable: DurableStream;
  readonly #subscriptions = new Set<QueuedSubscription>();
  readonly #errorListeners: ErrorListener[] = [];

  private constructor(
    readonly connection: NatsConnection,
    options: NatsBusOptions,
  ) {
    this.durable = new JetStreamDurable(
      connection,
      options.alertStream ?? 'VIGIL_ALERTS',
      options.alertReplicas ?? 1,
      options.alertMaxAgeDays ?? 31,
    );
  }

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const connection = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name ?? 'vigil',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      ...(options.credsFile ? { authenticator: credsAuthenticator(fs.readFileSync(options.credsFile)) } : {}),
      ...(options.user ? { user: options.user, pass: options.password } : {}),
      ...(options.caFile ? { tls: { caFile: options.caFile } } : {}),
    });
    return new NatsBus(connection, options);
  }

  onHandlerError(listener: ErrorListener): void {
    this.#errorListeners.push(listener);
  }

  publish(subject: string, data: Uint8Array): void {
    this.connection.publish(subject, data);
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    const queued = new QueuedSubscription(
      subject,
      options.queue,
      handler,
      options.maxPending ?? DEFAULT_MAX_PENDING,
      options.concurrency ?? 1,
      (error, s) => {
        for (const listener of this.#errorListeners) listener(error, s);
      },
      () => {
        this.#subscriptions.delete(queued);
        if (!natsSub.isClosed()) natsSub.unsubscribe();
      },
    );
    const natsSub = this.connection.subscribe(subject, {
      ...(options.queue ? { queue: options.queue } : {}),
      callback: (error, msg) => {
        if (error) return;
        queued.deliver({
          subject: msg.subject,
          data: msg.data,
          reply: msg.reply,
          respond: (answer: Uint8Array) => {
            msg.respond(answer);
          },
        });
      },
    });
    this.#subscriptions.add(queued);
    return queued;
  }

  async request(
    subject: string,
    data: Uint8Array,
    options: { timeoutMs?: number } = {},
  ): Promise<BusMessage> {
    try {
      const msg = await this.connection.request(subject, data, { timeout: options.timeoutMs ?? 5000 });
      return { subject: msg.subject, data: msg.data, respond: () => {} };
    } catch (error) {
      const text = String((error as Error).message ?? error);
      const code = /no responders|503/i.test(text) ? 'bus_no_responders' : 'bus_timeout';
      throw Object.assign(new Error(`request on ${subject} failed: ${text}`, { cause: error }), { code });
    }
  }

  async flush(): Promise<void> {
    await this.connection.flush();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((sub) => sub.drain()));
    if (!this.connection.isClosed()) await this.connection.drain();
  }

  /** A fresh inbox subject, for callers that build their own request patterns. */
  static inbox(): string {
    return `_INBOX.${randomUUID()}`;
  }
}
