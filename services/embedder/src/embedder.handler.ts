import {
  allSubjects,
  type Bus,
  type BusSubscription,
  type Logger,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import type { CropEmbedder } from '@vigil/face-runtime';
import { decodeFace, encodeEmbedding, type Face } from '@vigil/proto';

export interface EmbedderWorkerOptions {
  bus: Bus;
  embedder: CropEmbedder;
  logger: Logger;
  metrics?: VigilMetrics;
  /** Most crops in one model call. */
  maxBatch?: number;
  /** How long the first crop of a batch waits for others. */
  batchWaitMs?: number;
  maxPending?: number;
  subject?: string;
}

/** 8 crops: the ResNet's per-face cost flattens out by then on CPU, and a frame rarely holds more. */
export const DEFAULT_MAX_BATCH = 8;
/**
 * 3 ms: faces of one frame arrive within a millisecond of each other, so this gathers them into one
 * call while adding next to nothing to frame-to-alert latency.
 */
export const DEFAULT_BATCH_WAIT_MS = 3;

export interface EmbedderWorker {
  readonly subscription: BusSubscription;
  stop(): Promise<void>;
}

/** The face in `data`, or undefined when it is not one or its crop is not `cropSize` RGB. */
function wellFormedFace(data: Uint8Array, cropSize: [number, number] | undefined): Face | undefined {
  let face: Face;
  try {
    face = decodeFace(data);
  } catch {
    return undefined;
  }
  const [width, height] = cropSize ?? [face.cropWidth, face.cropHeight];
  if (face.frame && face.crop.length > 0 && face.crop.length === width * height * 3) return face;
  face.crop.fill(0);
  return undefined;
}

/**
 * The embedder role's handler: aligned crops in (queue group `embedder`), embeddings out. Crops
 * that arrive close together go through the model in one batch.
 */
export function startEmbedderWorker(options: EmbedderWorkerOptions): EmbedderWorker {
  const { bus, embedder, metrics } = options;
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  const waitMs = options.batchWaitMs ?? DEFAULT_BATCH_WAIT_MS;
  let batch: { face: Face; done: (error?: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const current = batch;
    batch = [];
    if (current.length === 0) return;
    const stop = metrics?.stageSeconds.startTimer({ stage: 'embed' });
    try {
      const stopModel = metrics?.modelSeconds.startTimer({ stage: 'embed' });
      let vectors: Float32Array[];
      try {
        vectors = await embedder.embed(current.map((item) => item.face.crop));
      } finally {
        stopModel?.();
      }
      current.forEach(({ face }, i) => {
        const vector = vectors[i] as Float32Array;
        const frame = face.frame;
        if (!frame) return;
        bus.publish(
          subject('embeddings', frame.deploymentId, frame.cameraId),
          encodeEmbedding({
            frame,
            trackId: face.trackId,
            modelId: embedder.modelId,
            vector: Array.from(vector),
            box: face.box,
            quality: face.quality,
            crop: face.crop,
            cropWidth: face.cropWidth,
            cropHeight: face.cropHeight,
          }),
        );
        vector.fill(0);
        face.crop.fill(0);
        metrics?.embeddings.inc({ deployment: frame.deploymentId, camera: frame.cameraId });
      });
      for (const item of current) item.done();
    } catch (error) {
      for (const item of current) item.done(error);
    } finally {
      stop?.();
    }
  };

  const subscription = bus.subscribe(
    options.subject ?? allSubjects('faces'),
    (message) => {
      const face = wellFormedFace(message.data, embedder.cropSize);
      // Dropped and counted before it joins a batch: in the batch, a crop of the wrong size would
      // fail the model call for every other face with it.
      if (!face) {
        metrics?.queueDropped.inc({ stage: 'faces', reason: 'decode_error' });
        return;
      }
      return new Promise<void>((resolve, reject) => {
        batch.push({ face, done: (error) => (error ? reject(error) : resolve()) });
        if (batch.length >= maxBatch) void flush();
        else timer ??= setTimeout(() => void flush(), waitMs);
      });
    },
    // Up to a batch of crops in hand at once, so that they can share one model call.
    { queue: 'embedder', concurrency: maxBatch, maxPending: options.maxPending ?? 256 },
  );
  options.logger.info({ subject: subscription.subject }, 'embedder worker listening');
  return {
    subscription,
    async stop() {
      await subscription.drain();
      await flush();
    },
  };
}
