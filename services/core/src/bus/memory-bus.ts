import { randomUUID } from 'node:crypto';
import {
  type Bus,
  type BusHandler,
  type BusMessage,
  type BusSubscription,
  type ConsumeOptions,
  type DurableMessage,
  type DurableStream,
  type StoredMessage,
  type SubscribeOptions,
  subjectMatches,
} from './bus.js';
import { DEFAULT_MAX_PENDING, type ErrorListener, QueuedSubscription } from './queued-subscription.js';

/** Message ids remembered for de-duplication (JetStream keeps them for its duplicate window). */
const DUPLICATE_WINDOW_IDS = 10_000;

class MemoryDurableStream implements DurableStream {
  readonly #messages: StoredMessage[] = [];
  readonly #msgIds = new Map<string, number>();
  #sequence = 0;
  readonly #groups = new Map<string, { filter: string; cursor: number; members: number; wake: () => void }>();

  constructor(private readonly retention: number) {}

  async publish(
    subject: string,
    data: Uint8Array,
    options: { msgId?: string } = {},
  ): Promise<{ sequence: number; duplicate?: boolean }> {
    if (options.msgId !== undefined) {
      const seen = this.#msgIds.get(options.msgId);
      if (seen !== undefined) return { sequence: seen, duplicate: true };
    }
    const sequence = ++this.#sequence;
    if (options.msgId !== undefined) {
      this.#msgIds.set(options.msgId, sequence);
      // Bounded like JetStream's duplicate window: only recent ids are remembered.
      if (this.#msgIds.size > DUPLICATE_WINDOW_IDS)
        this.#msgIds.delete(this.#msgIds.keys().next().value as string);
    }
    this.#messages.push({ subject, data: Uint8Array.from(data), sequence, storedAtMs: Date.now() });
    if (this.#messages.length > this.retention) this.#messages.shift();
    for (const group of this.#groups.values()) group.wake();
    return { sequence };
  }

  async erase(match: (message: StoredMessage) => boolean): Promise<number> {
    let erased = 0;
    for (let i = this.#messages.length - 1; i >= 0; i--) {
      if (!match(this.#messages[i]!)) continue;
      this.#messages[i]!.data.fill(0);
      this.#messages.splice(i, 1);
      erased++;
    }
    return erased;
  }

  async consume(
    options: ConsumeOptions,
    handler: (message: DurableMessage) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }> {
    let group = this.#groups.get(options.durableName);
    if (!group) {
      group = { filter: options.filter, cursor: 0, members: 0, wake: () => {} };
      this.#groups.set(options.durableName, group);
    }
    const shared = group;
    shared.members++;
    let stopped = false;
    let wakeUp: (() => void) | undefined;
    const retryMs = (options.ackWaitSeconds ?? 30) * 1000;
    const previousWake = shared.wake;
    shared.wake = () => {
      previousWake();
      wakeUp?.();
    };
    const loop = (async () => {
      while (!stopped) {
        const next = this.#messages.find(
          (m) => m.sequence > shared.cursor && subjectMatches(shared.filter, m.subject),
        );
        if (!next) {
          await new Promise<void>((resolve) => {
            wakeUp = resolve;
          });
          continue;
        }
        // Claim it so that another member of the group does not take the same message.
        const claimed = shared.cursor;
        shared.cursor = next.sequence;
        try {
          await handler(next);
        } catch {
          shared.cursor = Math.min(shared.cursor, claimed);
          await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, 1000)));
        }
      }
    })();
    return {
      async stop() {
        stopped = true;
        wakeUp?.();
        await loop;
        shared.members--;
      },
    };
  }
}

/**
 * The in-process bus of the embedded mode: the same subjects, wildcards, queue groups and
 * request/reply as NATS, within one Node process.
 */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly durable: DurableStream;
  readonly #subscriptions = new Set<QueuedSubscription>();
  readonly #roundRobin = new Map<string, number>();
  readonly #errorListeners: ErrorListener[] = [];

  constructor(options: { alertRetention?: number } = {}) {
    this.durable = new MemoryDurableStream(options.alertRetention ?? 100_000);
  }

  /** Called with every error a handler throws (the bus itself never rethrows them). */
  onHandlerError(listener: ErrorListener): void {
    this.#errorListeners.push(listener);
  }

  publish(subject: string, data: Uint8Array, reply?: string): void {
    const plain: QueuedSubscription[] = [];
    const groups = new Map<string, QueuedSubscription[]>();
    for (const sub of this.#subscriptions) {
      if (!subjectMatches(sub.subject, subject)) continue;
      if (sub.queueGroup === undefined) plain.push(sub);
      else groups.set(sub.queueGroup, [...(groups.get(sub.queueGroup) ?? []), sub]);
    }
    const message: BusMessage = {
      subject,
      data,
      reply,
      respond: (answer: Uint8Array) => {
        if (reply) this.publish(reply, answer);
      },
    };
    for (const sub of plain) sub.deliver(message);
    for (const [name, members] of groups) {
      const turn = this.#roundRobin.get(name) ?? 0;
      this.#roundRobin.set(name, turn + 1);
      members[turn % members.length]?.deliver(message);
    }
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    const sub = new QueuedSubscription(
      subject,
      options.queue,
      handler,
      options.maxPending ?? DEFAULT_MAX_PENDING,
      options.concurrency ?? 1,
      (error, s) => {
        for (const listener of this.#errorListeners) listener(error, s);
      },
      (s) => this.#subscriptions.delete(s),
    );
    this.#subscriptions.add(sub);
    return sub;
  }

  async request(
    subject: string,
    data: Uint8Array,
    options: { timeoutMs?: number } = {},
  ): Promise<BusMessage> {
    const inbox = `_INBOX.${randomUUID()}`;
    return new Promise<BusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unsubscribe();
        reject(Object.assign(new Error(`request on ${subject} timed out`), { code: 'bus_timeout' }));
      }, options.timeoutMs ?? 5000);
      const sub = this.subscribe(inbox, (answer) => {
        clearTimeout(timer);
        sub.unsubscribe();
        resolve(answer);
      });
      const hasResponder = [...this.#subscriptions].some(
        (s) => s !== sub && subjectMatches(s.subject, subject),
      );
      if (!hasResponder) {
        clearTimeout(timer);
        sub.unsubscribe();
        reject(Object.assign(new Error(`no responders on ${subject}`), { code: 'bus_no_responders' }));
        return;
      }
      this.publish(subject, data, inbox);
    });
  }

  async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((sub) => sub.drain()));
  }
}
