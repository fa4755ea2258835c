/** A message as a subscriber sees it, on either bus. */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Reply subject of a request, if any. */
  readonly reply?: string | undefined;
  /** Answers a request; a no-op when the message was not a request. */
  respond(data: Uint8Array): void;
}

export type BusHandler = (message: BusMessage) => void | Promise<void>;

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /**
   * Messages waiting for the handler beyond which new ones are dropped and counted (like a NATS
   * slow consumer), so a stalled worker never makes the publisher wait.
   */
  maxPending?: number;
  /** Handler calls running at once (default 1: in order). */
  concurrency?: number;
}

export interface BusSubscription {
  readonly subject: string;
  /** Messages dropped because the handler fell `maxPending` behind. */
  readonly dropped: number;
  /** Messages waiting for the handler. */
  readonly pending: number;
  /** Stops receiving; messages already queued are discarded. */
  unsubscribe(): void;
  /** Stops receiving and waits until every queued message has been handled. */
  drain(): Promise<void>;
}

/**
 * Core publish/subscribe with NATS semantics: `.`-separated subjects, `*` and `>` wildcards, queue
 * groups, request/reply. Nothing published here is retained: frames, faces and embeddings travel
 * only on this, and are gone once handled.
 */
export interface Bus {
  readonly kind: 'memory' | 'nats';
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription;
  request(subject: string, data: Uint8Array, options?: { timeoutMs?: number }): Promise<BusMessage>;
  /** Resolves when everything published so far has reached the server (NATS) or the handlers' queues. */
  flush(): Promise<void>;
  /** Drains subscriptions and closes the connection. */
  close(): Promise<void>;
  /** The durable stream that carries alerts (JetStream on NATS). */
  readonly durable: DurableStream;
}

export interface DurableMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Position in the stream; increases with each message. */
  readonly sequence: number;
}

export interface ConsumeOptions {
  /** Durable consumer name: consumers sharing a name share the work, and resume where they left off. */
  durableName: string;
  /** Subject filter within the stream, e.g. `vigil.v1.*.alerts.>`. */
  filter: string;
  /** Seconds before an unacknowledged message is delivered again. */
  ackWaitSeconds?: number;
}

/**
 * At-least-once delivery for alerts. A consumer's handler resolves to acknowledge; a handler that
 * throws gets the message again later. Only alerts travel here.
 */
export interface DurableStream {
  /**
   * Stores one message. A `msgId` seen within the stream's duplicate window (two minutes) is stored
   * once: a republished alert does not reach consumers twice.
   */
  publish(
    subject: string,
    data: Uint8Array,
    options?: { msgId?: string },
  ): Promise<{ sequence: number; duplicate?: boolean }>;
  consume(
    options: ConsumeOptions,
    handler: (message: DurableMessage) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }>;
  /**
   * Erases every stored message `match` selects (on JetStream the message's bytes are overwritten),
   * so nothing in the stream outlives the database row it carries. Resolves to how many were erased.
   */
  erase(match: (message: StoredMessage) => boolean): Promise<number>;
}

/** A message as the stream holds it. */
export interface StoredMessage extends DurableMessage {
  /** When the stream stored it (ms since the epoch). */
  readonly storedAtMs: number;
}

/** True when `subject` matches `pattern` under NATS rules (`*` one token, `>` one or more at the end). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const token = p[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return p.length === s.length;
}
