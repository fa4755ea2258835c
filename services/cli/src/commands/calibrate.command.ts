import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { calibrationReport, formatCalibrationReport, type LabelledEmbedding } from '@vigil/api';
import { isVigilError, loadConfig, ValidationError } from '@vigil/core';
import { centralFace, FaceEngine } from '@vigil/face-runtime';
import type { Command } from './command.js';

const USAGE =
  'vigil calibrate --data DIR --watchlist-size N [--model PROFILE] [--max-images 2000] [--per-identity 4] ' +
  '[--thresholds 0.3,0.4,...] [--json]';

/**
 * A labelled set laid out one folder per identity (LFW: `images_deepfunneled/<Name>/<Name>_0001.jpg`):
 * identities with at least two photos, in name order, up to `perIdentity` photos each and
 * `maxImages` in all.
 */
export function pickLabelledImages(
  dir: string,
  maxImages: number,
  perIdentity: number,
): { identity: string; file: string }[] {
  const root =
    ['images_deepfunneled', 'lfw-deepfunneled', 'lfw']
      .map((d) => path.join(dir, d))
      .find((d) => fs.existsSync(d) && fs.statSync(d).isDirectory()) ?? dir;
  const picked: { identity: string; file: string }[] = [];
  for (const identity of fs.readdirSync(root).sort()) {
    const folder = path.join(root, identity);
    if (!fs.statSync(folder).isDirectory()) continue;
    const photos = fs
      .readdirSync(folder)
      .filter((f) => /\.(jpe?g|png|webp)$/i.test(f))
      .sort();
    if (photos.length < 2) continue;
    for (const photo of photos.slice(0, perIdentity)) {
      if (picked.length >= maxImages) return picked;
      picked.push({ identity, file: path.join(folder, photo) });
    }
  }
  return picked;
}

/**
 * `vigil calibrate`: what each similarity threshold means for a watchlist of a given size, from a
 * labelled set (e.g. LFW): true and false positive identification rates, for oversight to read
 * before a threshold is set.
 */
export const calibrateCommand: Command = {
  summary: 'threshold calibration: --data DIR --watchlist-size N (TPIR and FPIR at each threshold)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        data: { type: 'string' },
        'watchlist-size': { type: 'string' },
        model: { type: 'string' },
        'max-images': { type: 'string', default: '2000' },
        'per-identity': { type: 'string', default: '4' },
        thresholds: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    });
    const watchlistSize = Number(values['watchlist-size']);
    const maxImages = Number(values['max-images']);
    const perIdentity = Number(values['per-identity']);
    if (!values.data || !Number.isInteger(watchlistSize) || watchlistSize < 1)
      throw new ValidationError(`usage: ${USAGE}`);
    if (!Number.isInteger(maxImages) || maxImages < 4 || !Number.isInteger(perIdentity) || perIdentity < 2)
      throw new ValidationError('--max-images must be at least 4 and --per-identity at least 2');
    const thresholds = values.thresholds?.split(',').map(Number);
    if (thresholds?.some((t) => !Number.isFinite(t)))
      throw new ValidationError('--thresholds: numbers, comma-separated');
    if (!fs.existsSync(values.data))
      throw new ValidationError(`${values.data} does not exist`, 'invalid_data_dir');

    const images = pickLabelledImages(path.resolve(values.data), maxImages, perIdentity);
    const engine = await FaceEngine.load(FaceEngine.optionsFromConfig(loadConfig(), values.model));
    const samples: LabelledEmbedding[] = [];
    let noFace = 0;
    try {
      for (const [i, image] of images.entries()) {
        try {
          const face = centralFace(await engine.detect(fs.readFileSync(image.file)));
          const embedding = face ? (await engine.embed([face.crop]))[0] : undefined;
          if (embedding) samples.push({ identity: image.identity, embedding });
          else noFace++;
        } catch (error) {
          if (!isVigilError(error)) throw error;
          noFace++;
        }
        if ((i + 1) % 250 === 0) process.stderr.write(`${i + 1}/${images.length} images\n`);
      }
    } finally {
      await engine.dispose();
    }
    const report = calibrationReport(samples, { watchlistSize, ...(thresholds ? { thresholds } : {}) });
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ...report, images: images.length, noFace, model: engine.profile.modelId })}\n`,
      );
    } else {
      process.stdout.write(
        `model ${engine.profile.modelId}: ${images.length} images, ${noFace} without a usable face\n${formatCalibrationReport(report)}`,
      );
    }
    return 0;
  },
};
