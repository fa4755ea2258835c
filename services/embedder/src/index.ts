// The embedder role: a bus worker that turns aligned crops into embeddings with the face runtime.
export {
  DEFAULT_BATCH_WAIT_MS,
  DEFAULT_MAX_BATCH,
  type EmbedderWorker,
  type EmbedderWorkerOptions,
  startEmbedderWorker,
} from './embedder.handler.js';
