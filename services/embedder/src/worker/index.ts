export {
  type CropEmbedder,
  DEFAULT_BATCH_WAIT_MS,
  DEFAULT_MAX_BATCH,
  type EmbedderWorker,
  type EmbedderWorkerOptions,
  startEmbedderWorker,
} from './embedder.handler.js';
