/**
 * The ZIP import's inflater, run in a worker thread (zip-extract.ts): streams the archive entry by
 * entry and counts the bytes each entry really inflates to, never the size it declares. An entry
 * past its limit is abandoned at once (its inflation stops); past the archive's limits, everything.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Unzip, UnzipInflate } from 'fflate';
import type { ZipLimits, ZipWorkerResult } from './zip-extract.js';

/** Bytes handed to the inflater at a time: small enough that a limit stops it promptly. */
const FEED_BYTES = 64 * 1024;

const { archive, limits } = workerData as { archive: Uint8Array; limits: ZipLimits };

/** `PK\x03\x04` (a first entry) or `PK\x05\x06` (an empty archive's end record). */
function looksLikeZip(data: Uint8Array): boolean {
  return (
    data[0] === 0x50 &&
    data[1] === 0x4b &&
    ((data[2] === 3 && data[3] === 4) || (data[2] === 5 && data[3] === 6))
  );
}

function extract(): ZipWorkerResult {
  if (!looksLikeZip(archive)) return { error: 'the archive is not a readable ZIP' };
  const files: [string, Uint8Array][] = [];
  const oversized: string[] = [];
  let entries = 0;
  let total = 0;
  let failure: ZipWorkerResult | undefined;
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.onfile = (file) => {
    if (failure || file.name.endsWith('/')) return;
    if (++entries > limits.maxEntries) {
      failure = { error: `more than ${limits.maxEntries} files in the ZIP` };
      return;
    }
    const limit = /\.csv$/i.test(file.name) ? limits.maxCsvBytes : limits.maxEntryBytes;
    let chunks: Uint8Array[] | undefined = [];
    let size = 0;
    file.ondata = (error, data, final) => {
      if (failure || !chunks) return;
      if (error) {
        failure = { error: 'the archive is not a readable ZIP' };
        return;
      }
      size += data.length;
      total += data.length;
      if (total > limits.maxTotalBytes) {
        failure = { error: `the ZIP inflates to more than ${limits.maxTotalBytes} bytes` };
        file.terminate();
        return;
      }
      if (size > limit) {
        // The declared size lied, or the entry is simply too big: stop inflating it, keep nothing.
        oversized.push(file.name);
        chunks = undefined;
        file.terminate();
        return;
      }
      chunks.push(data);
      if (final) files.push([file.name, concat(chunks, size)]);
    };
    file.start();
  };
  try {
    for (let at = 0; at < archive.length && !failure; at += FEED_BYTES)
      unzip.push(archive.subarray(at, at + FEED_BYTES), at + FEED_BYTES >= archive.length);
  } catch {
    return { error: 'the archive is not a readable ZIP' };
  }
  return failure ?? { files, oversized };
}

/** One buffer of its own per entry (the inflater's chunks may share one), so each can be transferred. */
function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

const result = extract();
parentPort?.postMessage(
  result,
  'files' in result ? result.files.map(([, data]) => data.buffer as ArrayBuffer) : [],
);
