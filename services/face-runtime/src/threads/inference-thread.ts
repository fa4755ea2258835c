import { Worker } from 'node:worker_threads';
import { type Logger, VigilError } from '@vigil/core';
import type { FaceEngineOptions } from '../engine/face-engine.service.js';
import type { CropEmbedder, FrameAnalyser, FrameAnalysis } from './frame-analyser.js';

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

/** The thread died or was closed while a request was in flight. */
export class InferenceThreadError extends VigilError {
  override readonly name = 'InferenceThreadError';
  constructor(message: string) {
    super('inference_unavailable', message, 503);
  }
}

/**
 * The face runtime in a worker thread, so detection and embedding never block the event loop that
 * serves the API and sockets (the all-in-one process). It answers as a {@link FrameAnalyser} and
 * a {@link CropEmbedder}; a thread that dies is started again, and its requests in flight fail.
 */
export class InferenceThread implements FrameAnalyser, CropEmbedder {
  #worker!: Worker;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #closed = false;
  modelId = '';
  cropSize: [number, number] = [0, 0];

  private constructor(
    private readonly options: FaceEngineOptions,
    private readonly logger: Logger,
    private readonly onRestart?: () => void,
  ) {}

  /** Starts the thread and waits until its models are loaded. */
  static async start(
    options: FaceEngineOptions,
    logger: Logger,
    onRestart?: () => void,
  ): Promise<InferenceThread> {
    const thread = new InferenceThread(options, logger, onRestart);
    await thread.#spawn();
    return thread;
  }

  #spawn(): Promise<void> {
    const worker = new Worker(new URL('./inference-thread.mjs', import.meta.url), {
      workerData: this.options,
    });
    this.#worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on(
        'message',
        (message: {
          ready?: boolean;
          modelId?: string;
          cropSize?: [number, number];
          id?: number;
          result?: unknown;
          error?: { code?: string; message?: string; status?: number };
        }) => {
          if (message.ready) {
            ready = true;
            this.modelId = message.modelId as string;
            this.cropSize = message.cropSize as [number, number];
            resolve();
            return;
          }
          const pending = this.#pending.get(message.id as number);
          if (!pending) return;
          this.#pending.delete(message.id as number);
          if (message.error) {
            pending.reject(
              new VigilError(
                message.error.code ?? 'inference_failed',
                message.error.message ?? 'inference failed',
                message.error.status ?? 500,
              ),
            );
          } else pending.resolve(message.result);
        },
      );
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else this.logger.error({ err: error }, 'inference thread failed');
      });
      worker.on('exit', (code) => {
        for (const pending of this.#pending.values())
          pending.reject(new InferenceThreadError('inference thread exited'));
        this.#pending.clear();
        if (!ready) {
          reject(new InferenceThreadError(`inference thread exited with ${code} before its models loaded`));
          return;
        }
        if (this.#closed || this.#worker !== worker) return;
        this.logger.warn({ code }, 'inference thread exited; starting it again');
        this.onRestart?.();
        this.#spawn().catch((error) => this.logger.error({ err: error }, 'inference thread restart failed'));
      });
    });
  }

  #call<T>(message: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<T> {
    if (this.#closed) return Promise.reject(new InferenceThreadError('inference thread closed'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }

  analyse(jpeg: Uint8Array): Promise<FrameAnalysis> {
    // A copy of just these bytes: the message's buffer may be shared, and is not ours to transfer.
    // (`new Uint8Array`: a Node Buffer's slice is a view, and transferring its buffer would detach
    // the bus client's, and every other message read into it.)
    const copy = new Uint8Array(jpeg);
    return this.#call({ op: 'analyse', jpeg: copy }, [copy.buffer as ArrayBuffer]);
  }

  embed(crops: readonly Uint8Array[]): Promise<Float32Array[]> {
    // Copies to transfer, never the crops' own buffers: NATS delivers Buffers, whose slice() is a
    // view, and transferring one detached the crops of other messages read into the same chunk.
    const copies = crops.map((c) => new Uint8Array(c));
    return this.#call(
      { op: 'embed', crops: copies },
      copies.map((c) => c.buffer as ArrayBuffer),
    );
  }

  /** Stops the thread after the requests in flight. */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    this.#closed = true;
    await this.#worker.terminate();
  }
}
