import type { Benchmark } from '../harness/benchmark.js';
import { accuracyBenchmark } from './accuracy.bench.js';
import { alertScreenBenchmark } from './alert-screen.bench.js';
import { enrolmentBenchmark } from './enrolment.bench.js';
import { matchingBenchmark } from './matching.bench.js';
import { modelSpeedBenchmark } from './model-speed.bench.js';
import { pipelineBenchmark } from './pipeline.bench.js';
import { smallFacesBenchmark } from './small-faces.bench.js';
import { videoBenchmark } from './video.bench.js';

/** Every benchmark, in report order. */
export const BENCHMARKS: Benchmark[] = [
  modelSpeedBenchmark,
  matchingBenchmark,
  enrolmentBenchmark,
  pipelineBenchmark,
  alertScreenBenchmark,
  accuracyBenchmark,
  smallFacesBenchmark,
  videoBenchmark,
];
