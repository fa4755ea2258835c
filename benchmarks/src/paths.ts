import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The benchmarks package folder. */
export const BENCHMARKS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Repository root. */
export const REPO_ROOT = path.resolve(BENCHMARKS_DIR, '..');
/** Gitignored cache of expensive inputs (LFW embeddings). */
export const CACHE_DIR = path.join(BENCHMARKS_DIR, '.cache');
/** JSON per benchmark (gitignored), REPORT.md and the PNG charts (committed). */
export const RESULTS_DIR = path.join(BENCHMARKS_DIR, 'results');
