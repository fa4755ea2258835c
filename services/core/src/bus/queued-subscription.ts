import type { BusHandler, BusMessage, BusSubscription } from './bus.js';

/** Default pending limit per subscription; NATS's default slow-consumer limit is 65,536 messages. */
export const DEFAULT_MAX_PENDING = 65_536;

export type ErrorListener = (error: unknown, subject: string) => void;

/**
 * A subscription's own bounded queue: messages wait here for the handler, and past `maxPending`
 * new ones are dropped and counted, so the publisher (ffmpeg's reader, the network) never waits.
 */
export class QueuedSubscription implements BusSubscription {
  dropped = 0;
  readonly #queue: BusMessage[] = [];
  #running = 0;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(
    readonly subject: string,
    readonly queueGroup: string | undefined,
    private readonly handler: BusHandler,
    private readonly maxPending: number,
    private readonly concurrency: number,
    private readonly onError: ErrorListener,
    private readonly detach: (sub: QueuedSubscription) => void,
  ) {}

  get pending(): number {
    return this.#queue.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  deliver(message: BusMessage): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.maxPending) {
      this.dropped++;
      return;
    }
    this.#queue.push(message);
    // Asynchronous like a network bus: a publisher never runs its subscribers' code inline.
    setImmediate(() => this.#pump());
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#queue.length > 0) {
      const message = this.#queue.shift() as BusMessage;
      this.#running++;
      Promise.resolve()
        .then(() => this.handler(message))
        .catch((error: unknown) => this.onError(error, message.subject))
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
    if (this.#running === 0 && this.#queue.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  unsubscribe(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.detach(this);
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  async drain(): Promise<void> {
    this.detach(this);
    if (this.#running > 0 || this.#queue.length > 0) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.#closed = true;
  }
}
