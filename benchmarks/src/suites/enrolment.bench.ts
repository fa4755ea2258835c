import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '@vigil/core';
import { FaceEngine } from '@vigil/face-runtime';
import type { Benchmark, BenchmarkContext, BenchmarkOutcome } from '../harness/benchmark.js';
import { round, summarise } from '../harness/statistics.js';
import { openLfw } from '../lfw/lfw-dataset.js';
import { LiveSystem } from './live-system.js';
import { faceCrop, samplePhotos } from './sample-frames.js';

/** Enrolment photos: LFW's (one per person) when the data is there, else crops of face-api's samples. */
async function enrolmentImages(
  context: BenchmarkContext,
  engine: FaceEngine,
  count: number,
): Promise<{ source: string; images: Buffer[] }> {
  const lfw = openLfw(path.join(context.dataDir, 'lfw'));
  if (lfw) {
    const images = [...lfw.people.values()]
      .slice(0, count)
      .map((photos) => fs.readFileSync(path.join(lfw.imagesDir, photos[0] as string)));
    return { source: `LFW (first photo of the first ${images.length} people)`, images };
  }
  const images: Buffer[] = [];
  const faces: { file: string; box: [number, number, number, number] }[] = [];
  for (const file of samplePhotos()) {
    for (const face of (await engine.detect(fs.readFileSync(file))).faces)
      faces.push({ file, box: face.face.box });
  }
  // Largest faces first (the small ones of the group photos fail enrolment's quality gate); different
  // margins give different files (enrolment refuses a byte-identical duplicate).
  faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  for (let i = 0; images.length < count && faces.length > 0; i++) {
    const face = faces[i % faces.length] as (typeof faces)[number];
    images.push(await faceCrop(face.file, face.box, 2 + 0.1 * Math.floor(i / faces.length)));
  }
  return { source: `crops around the ${faces.length} faces of face-api's sample photos`, images };
}

/** Enrolment throughput through the API route, beside the face runtime alone on the same photos. */
export const enrolmentBenchmark: Benchmark = {
  name: 'enrolment',
  title: 'Enrolment: images per second through POST /watchlists/:id/subjects',
  async run(context: BenchmarkContext): Promise<BenchmarkOutcome> {
    const count = context.mode === 'quick' ? 5 : 40;
    const engine = await FaceEngine.load({
      ...FaceEngine.optionsFromConfig(loadConfig()),
      modelsDir: context.modelsDir,
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-enrol-'));
    let live: LiveSystem | undefined;
    try {
      const { source, images } = await enrolmentImages(context, engine, count + 1);
      const engineTimes: number[] = [];
      for (const image of images.slice(1)) {
        const started = performance.now();
        await engine.analyse(image);
        engineTimes.push(performance.now() - started);
      }
      live = await LiveSystem.start(dir);
      const watchlist = await live.api('POST', '/watchlists', {
        name: 'bench',
        description: 'enrolment benchmark',
      });
      if (watchlist.status !== 201) throw new Error(`could not create a watchlist: ${watchlist.status}`);
      // One unmeasured enrolment: the first request warms the route and the engine's caches.
      await live.enrol(watchlist.json.id, 'warm-up', images[0] as Buffer);
      const results = [];
      const started = performance.now();
      for (const [i, image] of images.slice(1).entries())
        results.push(await live.enrol(watchlist.json.id, `subject-${i}`, image));
      const seconds = (performance.now() - started) / 1000;
      const accepted = results.filter((r) => r.status === 201).length;
      const refused: Record<string, number> = {};
      for (const r of results.filter((x) => x.status !== 201))
        refused[r.code ?? String(r.status)] = (refused[r.code ?? String(r.status)] ?? 0) + 1;
      const route = summarise(results.map((r) => r.ms));
      const runtime = summarise(engineTimes);
      return {
        status: 'ok',
        summary: [
          {
            metric: `enrolment images/s through the API (${results.length} images, ${accepted} accepted)`,
            value: `${round(results.length / seconds, 2)}/s (p50 ${round(route.p50, 0)} ms, p95 ${round(route.p95, 0)} ms an image)`,
            reference: `FaceEngine.analyse alone: ${round(1000 / runtime.p50, 2)}/s (p50 ${round(runtime.p50, 0)} ms)`,
            note:
              Object.keys(refused).length > 0
                ? `refused: ${Object.entries(refused)
                    .map(([k, v]) => `${k} ${v}`)
                    .join(', ')}`
                : 'none refused',
          },
        ],
        notes: [
          `Photos: ${source}. Each is one subject with one image, sent one at a time as multipart to the API of a system started as \`npm start\` starts it (PGlite, in-process bus, every role in one process).`,
          'The route decodes, checks quality (exactly one usable face), embeds, seals the image with AES-256-GCM and writes subject, image and embedding in one transaction. Refused images (422) count in the images per second: they cost the same decode and detection.',
          'Reference: the face runtime alone (decode, detect, align, embed) on the same photos in the benchmark process, without HTTP, quality checks, encryption or the database.',
        ],
        data: {
          source,
          images: results.length,
          accepted,
          refused,
          seconds,
          routeMs: route,
          runtimeMs: runtime,
        },
        charts: [],
      };
    } finally {
      await live?.stop();
      await engine.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
