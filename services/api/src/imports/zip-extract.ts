import { Worker } from 'node:worker_threads';
import { ValidationError } from '@vigil/core';

/** What one archive may inflate to, counted in bytes actually inflated. */
export interface ZipLimits {
  /** Files in the archive. */
  maxEntries: number;
  /** One image entry; past it the entry is abandoned and its rows fail `image_too_large`. */
  maxEntryBytes: number;
  /** One CSV entry (labels.csv). */
  maxCsvBytes: number;
  /** Every entry together; past it the import is refused. */
  maxTotalBytes: number;
}

export type ZipWorkerResult = { files: [string, Uint8Array][]; oversized: string[] } | { error: string };

export interface ZipContents {
  files: Map<string, Uint8Array>;
  /** Entries abandoned because they inflated past `maxEntryBytes` (or `maxCsvBytes`). */
  oversized: Set<string>;
}

/**
 * A hostile archive can take long to inflate even within its limits (many small deflate blocks):
 * past this the worker is stopped and the import refused.
 */
const EXTRACT_TIMEOUT_MS = 120_000;

/**
 * Inflates a ZIP in a worker thread, so the event loop (and in `--role all` the matcher sharing it)
 * never waits on it, bounding each entry and the whole by the bytes they really inflate to.
 * Throws ValidationError `invalid_archive` for an unreadable archive or one past the limits.
 */
export function extractZip(archive: Uint8Array, limits: ZipLimits): Promise<ZipContents> {
  // A copy of its own, moved into the worker rather than cloned.
  const copy = new Uint8Array(archive);
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./zip-extract.thread.mjs', import.meta.url), {
      workerData: { archive: copy, limits },
      transferList: [copy.buffer],
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new ValidationError('the ZIP took too long to unpack', 'invalid_archive'))),
      EXTRACT_TIMEOUT_MS,
    );
    worker.once('message', (result: ZipWorkerResult) =>
      settle(() => {
        if ('error' in result) reject(new ValidationError(result.error, 'invalid_archive'));
        else resolve({ files: new Map(result.files), oversized: new Set(result.oversized) });
      }),
    );
    worker.once('error', () =>
      settle(() => reject(new ValidationError('the archive is not a readable ZIP', 'invalid_archive'))),
    );
    worker.once('exit', () =>
      settle(() => reject(new ValidationError('the archive is not a readable ZIP', 'invalid_archive'))),
    );
  });
}
