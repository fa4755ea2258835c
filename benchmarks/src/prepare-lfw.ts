/**
 * Fills the LFW embedding cache ahead of a benchmark run:
 * `node services/cli/bin/run-ts.mjs benchmarks/src/prepare-lfw.ts --data DIR [--profile default|fast|insightface] [--models DIR] [--reverse] [--watchlist]`.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FaceEngine } from '@vigil/face-runtime';
import { EmbeddingCache } from './lfw/embedding-cache.repository.js';
import { imagesToEmbed, openLfw } from './lfw/lfw-dataset.js';
import { protocolFiles, watchlistProtocol } from './lfw/watchlist-protocol.js';
import { CACHE_DIR } from './paths.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/lfw' },
    profile: { type: 'string', default: 'default' },
    models: { type: 'string', default: '../shared/models' },
    threads: { type: 'string', default: '1' },
    // A second process can fill the same cache from the other end of the list.
    reverse: { type: 'boolean', default: false },
    // The watchlist (1:N) protocol's photos only.
    watchlist: { type: 'boolean', default: false },
  },
});
const dataset = openLfw(path.resolve(values.data));
if (!dataset) {
  console.error(`no LFW at ${values.data} (pairs.txt and images_deepfunneled/)`);
  process.exit(1);
}
const engine = await FaceEngine.load({
  profile: values.profile,
  modelsDir: path.resolve(values.models),
  threads: Number(values.threads),
});
const cache = EmbeddingCache.open(CACHE_DIR, engine.profile.modelId);
const wanted = values.watchlist ? protocolFiles(watchlistProtocol(dataset)) : imagesToEmbed(dataset);
const files = values.reverse ? wanted.reverse() : wanted;
console.error(`${engine.profile.modelId}: ${cache.missing(files).length} of ${files.length} images to embed`);
const result = await cache.fill(engine, dataset.imagesDir, files, {
  onProgress: (done, total, ms) => console.error(`${done}/${total} images, ${ms.toFixed(0)} ms an image`),
});
await engine.dispose();
console.error(`${engine.profile.modelId}: embedded ${result.embedded}, ${result.remaining} left`);
