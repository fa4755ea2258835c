import { loadProfile } from '@vigil/face-runtime';
import { SnapshotRepository } from '@vigil/matcher';
import type { Benchmark, BenchmarkContext, BenchmarkOutcome, SummaryRow } from '../harness/benchmark.js';
import { randomUnitVector, round, seededRandom, summarise } from '../harness/statistics.js';
import {
  ensureHnswIndex,
  ensureSnapshot,
  ensureVectorTable,
  nearest,
  openPgliteStore,
  openPostgresStore,
  setExact,
  type VectorStore,
} from './vector-store.repository.js';

/** The issue's target: 100% recall and p99 under 5 ms at 10k on PostgreSQL. */
const TARGET_P99_MS = 5;
const TARGET_SIZE = 10_000;

/** Watchlist sizes per mode and backend. */
const SIZES = {
  quick: { postgresql: [1_000, 10_000], pglite: [1_000, 10_000] },
  full: { postgresql: [1_000, 10_000, 100_000, 1_000_000], pglite: [1_000, 10_000, 100_000, 1_000_000] },
} as const;

/**
 * Largest table an HNSW index is built for in one run: PGlite (single-threaded WebAssembly) took
 * 9-98 s for 10k on this 2-core machine and grows faster than linearly, so it stops at 100k.
 * PostgreSQL builds every size (1M takes minutes with its parallel build; the index is kept in
 * `vigil_bench` and reused). Exact search, the matcher's default, runs at every size.
 */
const HNSW_MAX_SIZE = { postgresql: 1_000_000, pglite: 100_000 } as const;

/** A wider HNSW search than pgvector's default ef_search=40, to show the recall it buys. */
const WIDE_EF_SEARCH = 200;

/** Searches per size: fewer exact scans where one costs hundreds of milliseconds. */
function queryCounts(
  mode: 'quick' | 'full',
  size: number,
  backend: 'postgresql' | 'pglite',
): { exact: number; hnsw: number } {
  if (mode === 'quick') return { exact: 100, hnsw: 100 };
  // A PGlite scan of 1M vectors takes seconds: 20 searches of each kind.
  if (backend === 'pglite' && size >= 1_000_000) return { exact: 20, hnsw: 300 };
  if (size >= 1_000_000) return { exact: 30, hnsw: 300 };
  if (size >= 100_000) return { exact: 100, hnsw: 500 };
  return { exact: 500, hnsw: 500 };
}

interface SizeResult {
  backend: string;
  size: number;
  queries: { exact: number; hnsw: number };
  exactMs: ReturnType<typeof summarise>;
  /**
   * The matcher's own query (SnapshotRepository.matchExact: every snapshot entry of the deployment
   * scored, those at or above the threshold kept, best per subject) on the same vectors.
   */
  matcherMs: ReturnType<typeof summarise>;
  /** HNSW with ef_search 40; absent where the index was not built (HNSW_MAX_SIZE). */
  hnsw?: HnswResult;
  /** HNSW with ef_search WIDE_EF_SEARCH. */
  hnswWide?: HnswResult;
  insertSeconds: number;
  hnswBuildSeconds: number | undefined;
  reusedTable: boolean;
  builtAt: string;
}

interface HnswResult {
  efSearch: number;
  ms: ReturnType<typeof summarise>;
  /** HNSW's top-1 equals the exact scan's top-1. */
  recallAt1: number;
  /** Share of the exact top-10 that HNSW's top-10 holds. */
  recallAt10: number;
}

async function measureHnsw(
  store: VectorStore,
  table: Awaited<ReturnType<typeof ensureVectorTable>>,
  probes: Float32Array[],
  truth: number[][],
  efSearch: number,
): Promise<HnswResult> {
  await setExact(store, false);
  await store.query(`SET hnsw.ef_search = ${efSearch}`);
  const times: number[] = [];
  let top1 = 0;
  let top10 = 0;
  let compared = 0;
  await nearest(store, table, probes[0] as Float32Array, 10);
  for (const [i, probe] of probes.entries()) {
    const started = performance.now();
    const found = await nearest(store, table, probe, 10);
    times.push(performance.now() - started);
    const exact = truth[i];
    if (exact) {
      compared++;
      if (found[0] === exact[0]) top1++;
      const set = new Set(found);
      top10 += exact.filter((id) => set.has(id)).length / exact.length;
    }
  }
  return { efSearch, ms: summarise(times), recallAt1: top1 / compared, recallAt10: top10 / compared };
}

async function measureSize(
  store: VectorStore,
  size: number,
  dimension: number,
  counts: { exact: number; hnsw: number },
  log: (m: string) => void,
): Promise<SizeResult> {
  const table = await ensureVectorTable(store, size, dimension);
  log(
    `${store.backend} ${size}: table ${table.reused ? 'reused' : `filled in ${round(table.insertSeconds, 1)} s`}`,
  );
  const random = seededRandom(size);
  const probes = Array.from({ length: Math.max(counts.exact, counts.hnsw) }, () =>
    randomUnitVector(dimension, random),
  );
  await setExact(store, true);
  const exactTimes: number[] = [];
  const truth: number[][] = [];
  await nearest(store, table, probes[0] as Float32Array, 10);
  for (const probe of probes.slice(0, counts.exact)) {
    const started = performance.now();
    truth.push(await nearest(store, table, probe, 10));
    exactTimes.push(performance.now() - started);
  }
  await setExact(store, false);
  const profile = loadProfile('default');
  const deployment = await ensureSnapshot(store, table, profile.modelId);
  const snapshots = new SnapshotRepository(store.database);
  const matcherTimes: number[] = [];
  await snapshots.matchExact(
    deployment,
    profile.modelId,
    probes[0] as Float32Array,
    profile.defaultThreshold,
  );
  for (const probe of probes.slice(0, counts.exact)) {
    const started = performance.now();
    await snapshots.matchExact(deployment, profile.modelId, probe, profile.defaultThreshold);
    matcherTimes.push(performance.now() - started);
  }
  let hnsw: HnswResult | undefined;
  let hnswWide: HnswResult | undefined;
  let buildSeconds: number | undefined;
  if (size <= HNSW_MAX_SIZE[store.backend]) {
    buildSeconds = await ensureHnswIndex(store, table);
    log(`${store.backend} ${size}: HNSW ${table.reused ? 'reused' : `built in ${round(buildSeconds, 1)} s`}`);
    const hnswProbes = probes.slice(0, counts.hnsw);
    hnsw = await measureHnsw(store, table, hnswProbes, truth, 40);
    hnswWide = await measureHnsw(store, table, hnswProbes, truth, WIDE_EF_SEARCH);
  }
  return {
    backend: store.backend,
    size,
    queries: counts,
    exactMs: summarise(exactTimes),
    matcherMs: summarise(matcherTimes),
    hnsw,
    hnswWide,
    insertSeconds: table.insertSeconds,
    hnswBuildSeconds: buildSeconds,
    reusedTable: table.reused,
    builtAt: table.builtAt,
  };
}

function label(size: number): string {
  return size >= 1_000_000 ? `${size / 1_000_000}M` : size >= 1000 ? `${size / 1000}k` : `${size}`;
}

/** Matching latency and recall by watchlist size: exact scan vs HNSW, PostgreSQL and PGlite. */
export const matchingBenchmark: Benchmark = {
  name: 'matching',
  title: 'Matching latency and recall by watchlist size (pgvector exact scan vs HNSW)',
  async run(context: BenchmarkContext): Promise<BenchmarkOutcome> {
    const dimension = loadProfile('default').embedder.embeddingSize;
    const notes = [
      `Random unit vectors of dimension ${dimension} (the default profile's embedding size), Gaussian then normalised; probes are fresh random unit vectors, so the nearest neighbour is as hard to find as it gets (real probes sit much closer to their mate).`,
      "Matcher query: `SnapshotRepository.matchExact`, the matcher's own code, against a running deployment whose snapshot holds the same vectors (Vigil's schema migrated into the benchmark database): every entry of the deployment scored by cosine distance, those at or above the default profile's threshold kept (the threshold filters inside the scan), best per subject. Exact by construction (recall 100%); this is what a face in a live frame costs, and what the target is judged on.",
      'Exact top-10 and HNSW: `ORDER BY embedding <=> probe LIMIT 10` on a plain table, no threshold (the nearest 10 whatever their score, to measure recall); exact = index scans disabled (sequential scan, parallel workers allowed); HNSW = pgvector defaults m=16, ef_construction=64, ef_search=40. Every query over one connection, one at a time; latency is the client round trip.',
      "recall@1: share of searches where HNSW returns the exact scan's nearest vector; recall@10: share of the exact top 10 found in HNSW's top 10. Exact search is what the matcher uses by default, so its recall is 100% by construction.",
    ];
    const results: SizeResult[] = [];
    const failed: string[] = [];
    const plans: { open: () => Promise<VectorStore>; backend: 'postgresql' | 'pglite' }[] = [];
    if (context.databaseUrl) {
      const url = context.databaseUrl;
      plans.push({ backend: 'postgresql', open: () => openPostgresStore(url) });
    } else {
      notes.push(context.databaseSkipped ?? 'PostgreSQL skipped: no database URL.');
    }
    plans.push({ backend: 'pglite', open: openPgliteStore });
    for (const plan of plans) {
      const sizes = SIZES[context.mode][plan.backend];
      const store = await plan.open();
      try {
        for (const size of sizes) {
          let result: SizeResult;
          try {
            result = await measureSize(
              store,
              size,
              dimension,
              queryCounts(context.mode, size, plan.backend),
              context.log,
            );
          } catch (error) {
            // One size that does not fit (PGlite's WebAssembly memory at 1M) leaves the others standing.
            const message = `${plan.backend} ${label(size)}: not measured (${(error as Error).message})`;
            context.log(message);
            notes.push(message);
            failed.push(`${plan.backend} ${label(size)}`);
            break;
          }
          results.push(result);
          if (plan.backend === 'pglite') {
            await store.query('DELETE FROM deployments WHERE name = $1', [
              `bench match_${size}_d${dimension}`,
            ]);
            await store.query(`DROP TABLE IF EXISTS match_${size}_d${dimension}`);
          }
        }
      } finally {
        await store.close();
      }
    }
    const skipped =
      context.mode === 'quick'
        ? 'Quick mode: 1k and 10k only on both databases; the full run adds 100k and 1M.'
        : `Full mode: every size on both databases; HNSW is built up to ${label(HNSW_MAX_SIZE.postgresql)} on PostgreSQL and up to ${label(HNSW_MAX_SIZE.pglite)} on PGlite (single-threaded WebAssembly: its build grows faster than linearly, hours at 1M). Exact search, the matcher's default, runs at every size.`;
    notes.push(skipped);
    if (results.some((r) => r.reusedTable)) {
      notes.push(
        'PostgreSQL tables and HNSW indexes live in the `vigil_bench` database and are reused by later runs; the build times shown are from the run that built them (`builtAt` in the JSON).',
      );
    }
    const summary: SummaryRow[] = [];
    for (const r of results) {
      const target = r.backend === 'postgresql' && r.size === TARGET_SIZE;
      const hnsw = r.hnsw
        ? `HNSW ${round(r.hnsw.ms.p50, 2)} / ${round(r.hnsw.ms.p99, 2)} (recall@1 ${round(r.hnsw.recallAt1 * 100, 1)}%; ef ${WIDE_EF_SEARCH}: ${round(r.hnswWide?.ms.p99 ?? Number.NaN, 2)} ms, ${round((r.hnswWide?.recallAt1 ?? Number.NaN) * 100, 1)}%)`
        : 'HNSW not built (time)';
      summary.push({
        metric: `${r.backend} ${label(r.size)}: search p50 / p99 ms`,
        value: `matcher query ${round(r.matcherMs.p50, 2)} / ${round(r.matcherMs.p99, 2)}; exact top-10 ${round(r.exactMs.p50, 2)} / ${round(r.exactMs.p99, 2)} (recall 100%)`,
        reference: hnsw,
        note: target
          ? `target p99 < ${TARGET_P99_MS} ms at 10k: matcher query (exact) ${r.matcherMs.p99 < TARGET_P99_MS ? 'met' : 'missed'}, exact top-10 ${r.exactMs.p99 < TARGET_P99_MS ? 'met' : 'missed'}, HNSW ${r.hnsw && r.hnsw.ms.p99 < TARGET_P99_MS ? 'met' : 'missed'}`
          : r.hnswBuildSeconds !== undefined
            ? `HNSW build ${round(r.hnswBuildSeconds, 1)} s`
            : '',
      });
    }
    const charts = [];
    for (const backend of ['postgresql', 'pglite'] as const) {
      const rows = results.filter((r) => r.backend === backend);
      if (rows.length === 0) continue;
      charts.push(
        await context.chart(`matching-latency-${backend}.png`, {
          kind: 'line',
          title: `Matching latency by watchlist size (${backend})`,
          xLabel: 'watchlist size (vectors)',
          yLabel: 'latency per search (ms)',
          xLog: true,
          yLog: true,
          series: [
            { name: 'matcher query p50', points: rows.map((r) => [r.size, r.matcherMs.p50]) },
            { name: 'matcher query p99', points: rows.map((r) => [r.size, r.matcherMs.p99]) },
            { name: 'exact p50', points: rows.map((r) => [r.size, r.exactMs.p50]) },
            { name: 'exact p99', points: rows.map((r) => [r.size, r.exactMs.p99]) },
            {
              name: 'HNSW p50',
              points: rows.flatMap((r) => (r.hnsw ? [[r.size, r.hnsw.ms.p50] as [number, number]] : [])),
            },
            {
              name: 'HNSW p99',
              points: rows.flatMap((r) => (r.hnsw ? [[r.size, r.hnsw.ms.p99] as [number, number]] : [])),
            },
            {
              name: `target p99 ${TARGET_P99_MS} ms`,
              points: rows.map((r) => [r.size, TARGET_P99_MS]),
              dashed: true,
            },
          ],
        }),
      );
    }
    const allSizes = [...new Set(results.map((r) => r.size))];
    if (results.length > 0) {
      charts.push(
        await context.chart('matching-recall.png', {
          kind: 'bar',
          title: 'HNSW recall@1 against the exact scan (ef_search 40)',
          yLabel: 'recall@1 (%)',
          categories: allSizes.map(label),
          series: (['postgresql', 'pglite'] as const)
            .filter((b) => results.some((r) => r.backend === b))
            .map((b) => ({
              name: b,
              values: allSizes.map((s) => {
                const r = results.find((x) => x.backend === b && x.size === s);
                return r?.hnsw ? round(r.hnsw.recallAt1 * 100, 1) : Number.NaN;
              }),
            })),
        }),
      );
    }
    return {
      status: context.databaseUrl && failed.length === 0 ? 'ok' : 'partial',
      summary,
      notes,
      data: { dimension, results },
      charts,
    };
  },
};
