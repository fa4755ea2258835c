/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --data DIR] [-- --models DIR]`: runs every
 * benchmark, prints one table, writes `results/<name>.json`, and renders REPORT.md with PNG charts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchmarkContext, BenchmarkMode, BenchmarkResult } from './harness/benchmark.js';
import { writeChartPng } from './harness/chart.js';
import { machineFacts } from './harness/machine.js';
import { renderReport, textTable } from './harness/report.js';
import { CACHE_DIR, REPO_ROOT, RESULTS_DIR } from './paths.js';
import { BENCHMARKS } from './suites/index.js';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    data: { type: 'string', default: path.resolve(REPO_ROOT, '..', 'shared', 'data') },
    models: { type: 'string', default: path.resolve(REPO_ROOT, '..', 'shared', 'models') },
    'database-url': { type: 'string' },
    'no-postgres': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(`npm run bench -- [--quick] [--only ${BENCHMARKS.map((b) => b.name).join(',')}]
  [--data DIR (default ../shared/data)] [--models DIR (default ../shared/models)]
  [--database-url URL (default $DATABASE_URL or ${DEFAULT_DATABASE_URL})] [--no-postgres]`);
  process.exit(0);
}

const mode: BenchmarkMode = values.quick ? 'quick' : 'full';
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
const unknown = only ? [...only].filter((n) => !BENCHMARKS.some((b) => b.name === n)) : [];
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
const databaseUrl = values['no-postgres']
  ? undefined
  : (values['database-url'] ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
// Quick runs keep their report and charts apart so they never overwrite the committed full report.
const reportDir = mode === 'full' ? RESULTS_DIR : path.join(RESULTS_DIR, 'quick');
fs.mkdirSync(reportDir, { recursive: true });

const machine = await machineFacts(databaseUrl);
const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
log(`${mode} run on ${machine.cpu} x${machine.cores}, load ${machine.loadAverage}; data ${values.data}`);

// PostgreSQL is measured only where a server answers and can load pgvector; otherwise PGlite alone.
const databaseSkipped = !databaseUrl
  ? 'PostgreSQL skipped: --no-postgres.'
  : machine.versions.postgresql === 'unreachable'
    ? 'PostgreSQL skipped: no server answered at DATABASE_URL (or postgres://postgres@127.0.0.1:5432/postgres).'
    : machine.versions.pgvector === 'absent'
      ? `PostgreSQL skipped: the server at DATABASE_URL has no pgvector ("extension vector is not available"); install it (deploy/README.md) to measure it.`
      : undefined;
if (databaseSkipped) log(databaseSkipped);

const results: BenchmarkResult[] = [];
for (const benchmark of BENCHMARKS) {
  if (only && !only.has(benchmark.name)) continue;
  const context: BenchmarkContext = {
    mode,
    dataDir: path.resolve(values.data),
    modelsDir: path.resolve(values.models),
    databaseUrl: databaseSkipped ? undefined : databaseUrl,
    databaseSkipped,
    cacheDir: CACHE_DIR,
    resultsDir: reportDir,
    log: (message) => log(`${benchmark.name}: ${message}`),
    async chart(file, chart) {
      await writeChartPng(chart, path.join(reportDir, file));
      return { file, title: chart.title };
    },
  };
  const startedAt = new Date();
  log(`${benchmark.name}: ${benchmark.title}`);
  let outcome: Awaited<ReturnType<typeof benchmark.run>>;
  try {
    outcome = await benchmark.run(context);
  } catch (error) {
    log(`${benchmark.name} failed: ${(error as Error).stack ?? error}`);
    outcome = {
      status: 'failed',
      summary: [],
      notes: [`failed: ${(error as Error).message}`],
      data: {},
      charts: [],
    };
  }
  const result: BenchmarkResult = {
    name: benchmark.name,
    title: benchmark.title,
    mode,
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
    machine,
    ...outcome,
  };
  fs.writeFileSync(path.join(reportDir, `${benchmark.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
  results.push(result);
  log(`${benchmark.name}: ${result.status} in ${result.durationSeconds} s`);
}

// A full run with --only keeps the other benchmarks' latest full results in the report.
if (mode === 'full') {
  for (const benchmark of BENCHMARKS) {
    if (results.some((r) => r.name === benchmark.name)) continue;
    const file = path.join(RESULTS_DIR, `${benchmark.name}.json`);
    if (!fs.existsSync(file)) continue;
    const earlier = JSON.parse(fs.readFileSync(file, 'utf8')) as BenchmarkResult;
    if (earlier.mode === 'full') results.push(earlier);
  }
  results.sort(
    (a, b) => BENCHMARKS.findIndex((x) => x.name === a.name) - BENCHMARKS.findIndex((x) => x.name === b.name),
  );
}

fs.writeFileSync(
  path.join(reportDir, 'REPORT.md'),
  renderReport(results, mode === 'full' ? 'Vigil benchmark report' : 'Vigil benchmark report (quick run)'),
);
console.log(textTable(results));
console.log(`\nJSON: ${reportDir}/<name>.json; report: ${path.join(reportDir, 'REPORT.md')}`);
process.exit(results.some((r) => r.status === 'failed') ? 1 : 0);
