import type { Benchmark } from '../harness/benchmark.js';
import { matchingBenchmark } from './matching.bench.js';

/** Every benchmark, in report order. */
export const BENCHMARKS: Benchmark[] = [matchingBenchmark];
