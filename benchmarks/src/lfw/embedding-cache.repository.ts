import fs from 'node:fs';
import path from 'node:path';
import { isVigilError } from '@vigil/core';
import { centralFace, type FaceEngine } from '@vigil/face-runtime';

/** One cached image: its embedding (undefined when no face was found or the image is unreadable). */
export interface CachedEmbedding {
  embedding: Float32Array | undefined;
  /** Faces the detector found in the whole photo. */
  faces: number;
}

/**
 * Embeddings of LFW photos per model, kept in an append-only JSON-lines file under
 * `benchmarks/.cache/` so a rerun (or a run cut short) picks up where the last one stopped.
 * Embedding all 13,233 photos takes tens of minutes on a shared 2-core machine.
 */
export class EmbeddingCache {
  private constructor(
    readonly file: string,
    readonly entries: Map<string, CachedEmbedding>,
  ) {}

  /** Opens (or creates) the cache of `modelId` in `cacheDir`. */
  static open(cacheDir: string, modelId: string): EmbeddingCache {
    fs.mkdirSync(cacheDir, { recursive: true });
    const file = path.join(cacheDir, `lfw-${modelId.replace(/[^a-zA-Z0-9._-]/g, '_')}.jsonl`);
    const entries = new Map<string, CachedEmbedding>();
    if (fs.existsSync(file)) {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const row = JSON.parse(line) as { f: string; e: string | null; n: number };
          const embedding = row.e
            ? new Float32Array(new Uint8Array(Buffer.from(row.e, 'base64')).buffer)
            : undefined;
          entries.set(row.f, { embedding, faces: row.n });
        } catch {
          // A line cut short by an interrupted run: that image is embedded again.
        }
      }
    }
    return new EmbeddingCache(file, entries);
  }

  /** Images of `files` not yet in the cache. */
  missing(files: readonly string[]): string[] {
    return files.filter((f) => !this.entries.has(f));
  }

  /**
   * Embeds `files` (relative to `imagesDir`) that are not cached yet with `engine`, appending each
   * to the cache file as it is done; stops early when `deadline` (epoch ms) passes.
   */
  async fill(
    engine: FaceEngine,
    imagesDir: string,
    files: readonly string[],
    options: {
      deadline?: number;
      onProgress?: (done: number, total: number, msPerImage: number) => void;
    } = {},
  ): Promise<{ embedded: number; remaining: number }> {
    const todo = this.missing(files);
    const started = performance.now();
    let done = 0;
    for (const file of todo) {
      if (options.deadline !== undefined && Date.now() > options.deadline) break;
      let entry: CachedEmbedding;
      try {
        const analysis = await engine.detect(fs.readFileSync(path.join(imagesDir, file)));
        const face = centralFace(analysis);
        entry = {
          embedding: face ? (await engine.embed([face.crop]))[0] : undefined,
          faces: analysis.faces.length,
        };
      } catch (error) {
        if (!isVigilError(error) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        entry = { embedding: undefined, faces: 0 };
      }
      this.entries.set(file, entry);
      const e = entry.embedding
        ? Buffer.from(
            entry.embedding.buffer,
            entry.embedding.byteOffset,
            entry.embedding.byteLength,
          ).toString('base64')
        : null;
      fs.appendFileSync(this.file, `${JSON.stringify({ f: file, e, n: entry.faces })}\n`);
      done++;
      if (done % 250 === 0) options.onProgress?.(done, todo.length, (performance.now() - started) / done);
    }
    return { embedded: done, remaining: todo.length - done };
  }
}
