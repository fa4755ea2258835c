import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isVigilError, loadConfig, ValidationError } from '@vigil/core';
import {
  centralFace,
  FaceEngine,
  parseLfwPairs,
  tenFoldVerification,
  trueAcceptRate,
} from '@vigil/face-runtime';
import type { Command } from './command.js';
import { round } from './detect.command.js';

const USAGE = 'vigil eval lfw --data DIR [--model PROFILE] [--folds 1,2,...] [--sample N]';

export const evalCommand: Command = {
  summary: 'face verification benchmark: lfw --data DIR [--model PROFILE] (10-fold pairs.txt protocol)',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        data: { type: 'string' },
        model: { type: 'string' },
        folds: { type: 'string' },
        sample: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals[0] !== 'lfw' || !values.data) throw new ValidationError(`usage: ${USAGE}`);
    const dataDir = path.resolve(values.data);
    const pairsFile = path.join(dataDir, 'pairs.txt');
    if (!fs.existsSync(pairsFile)) throw new ValidationError(`${pairsFile} does not exist`, 'invalid_pairs');
    const imagesDir =
      ['images_deepfunneled', 'lfw-deepfunneled', 'lfw']
        .map((d) => path.join(dataDir, d))
        .find((d) => fs.existsSync(d)) ?? dataDir;
    let pairs = parseLfwPairs(fs.readFileSync(pairsFile, 'utf8'));
    if (values.folds) {
      const chosen = new Set(values.folds.split(',').map((f) => Number(f) - 1));
      pairs = pairs.filter((p) => chosen.has(p.fold));
    }
    if (values.sample) {
      // A quick look: the first N matched and N mismatched pairs of each fold.
      const limit = Number(values.sample);
      if (!Number.isInteger(limit) || limit < 1)
        throw new ValidationError('--sample takes a positive integer');
      const taken = new Map<string, number>();
      pairs = pairs.filter((p) => {
        const key = `${p.fold}:${p.same}`;
        const count = taken.get(key) ?? 0;
        taken.set(key, count + 1);
        return count < limit;
      });
    }
    const config = loadConfig();
    const engine = await FaceEngine.load(FaceEngine.optionsFromConfig(config, values.model));
    const embeddings = new Map<string, Float32Array | undefined>();
    const files = [...new Set(pairs.flatMap((p) => [p.first, p.second]))];
    const started = performance.now();
    let unreadable = 0;
    try {
      for (const [i, file] of files.entries()) {
        try {
          const analysis = await engine.detect(fs.readFileSync(path.join(imagesDir, file)));
          const face = centralFace(analysis);
          embeddings.set(file, face ? (await engine.embed([face.crop]))[0] : undefined);
        } catch (error) {
          if (!isVigilError(error) && (error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          unreadable++;
          embeddings.set(file, undefined);
        }
        if ((i + 1) % 200 === 0) {
          const rate = (performance.now() - started) / (i + 1);
          process.stderr.write(`${i + 1}/${files.length} images, ${rate.toFixed(0)} ms an image\n`);
        }
      }
    } finally {
      await engine.dispose();
    }
    const noFace = [...embeddings.values()].filter((e) => e === undefined).length;
    // A pair with an image where no face was found is scored as "different people" (similarity -1):
    // the protocol counts it against the pipeline rather than dropping it.
    const scored = pairs.map((p) => {
      const a = embeddings.get(p.first);
      const b = embeddings.get(p.second);
      return { fold: p.fold, same: p.same, similarity: a && b ? engine.similarity(a, b) : -1 };
    });
    const result = tenFoldVerification(scored);
    const tar = trueAcceptRate(scored, 0.01);
    const summary = {
      benchmark: 'lfw',
      model: engine.profile.modelId,
      profile: engine.profile.name,
      pairs: scored.length,
      folds: result.folds.length,
      accuracy: round(result.accuracy, 4),
      std: round(result.std, 4),
      threshold: round(result.threshold, 4),
      tarAtFar1Percent: round(tar.tar, 4),
      imagesWithoutFace: noFace,
      unreadableImages: unreadable,
      msPerImage: round((performance.now() - started) / files.length, 1),
    };
    process.stderr.write(
      `LFW ${summary.folds}-fold: accuracy ${(result.accuracy * 100).toFixed(2)}% +- ${(result.std * 100).toFixed(2)}, threshold ${summary.threshold}, TAR@FAR1% ${(tar.tar * 100).toFixed(2)}%, ${noFace} images without a face\n`,
    );
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  },
};
