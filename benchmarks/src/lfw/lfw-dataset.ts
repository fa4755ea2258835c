import fs from 'node:fs';
import path from 'node:path';
import { type LfwPair, parseLfwPairs } from '@vigil/face-runtime';
import { protocolFiles, watchlistProtocol } from './watchlist-protocol.js';

/** LFW as the benchmarks read it: pairs.txt for verification and the photos of each person for 1:N. */
export interface LfwDataset {
  /** Folder that holds the person folders (`images_deepfunneled/`). */
  imagesDir: string;
  /** pairs.txt, View 2: 10 folds of 300 matched and 300 mismatched pairs. */
  pairs: LfwPair[];
  /** Each person's photos as `Name/Name_0001.jpg`, sorted. */
  people: Map<string, string[]>;
}

/**
 * Most photos of one person the 1:N set uses: caps George W Bush's 530 so that a few people do not
 * dominate the mated searches, and keeps the images to embed within the time the full run has.
 */
export const MAX_PHOTOS_PER_PERSON = 3;

/** Reads LFW from `dataDir` (the folder holding pairs.txt); undefined when it is absent. */
export function openLfw(dataDir: string): LfwDataset | undefined {
  const pairsFile = path.join(dataDir, 'pairs.txt');
  if (!fs.existsSync(pairsFile)) return undefined;
  const imagesDir = ['images_deepfunneled', 'lfw-deepfunneled', 'lfw']
    .map((d) => path.join(dataDir, d))
    .find((d) => fs.existsSync(d));
  if (!imagesDir) return undefined;
  const people = new Map<string, string[]>();
  for (const name of fs.readdirSync(imagesDir).sort()) {
    const folder = path.join(imagesDir, name);
    if (!fs.statSync(folder).isDirectory()) continue;
    const photos = fs
      .readdirSync(folder)
      .filter((f) => /\.jpe?g$/i.test(f))
      .sort()
      .map((f) => `${name}/${f}`);
    if (photos.length > 0) people.set(name, photos);
  }
  return { imagesDir, pairs: parseLfwPairs(fs.readFileSync(pairsFile, 'utf8')), people };
}

/**
 * The images the accuracy benchmark embeds, in the order that completes whole protocols first:
 * the watchlist protocol's (1:N, watchlist-protocol.ts), every pairs.txt image (verification), then up to MAX_PHOTOS_PER_PERSON photos of each person with
 * two or more (the 1:N gallery and mated probes), then the first photo of everyone else (distractors
 * and non-mated probes).
 */
export function imagesToEmbed(dataset: LfwDataset): string[] {
  const ordered = new Set<string>(protocolFiles(watchlistProtocol(dataset)));
  for (const pair of dataset.pairs) {
    ordered.add(pair.first);
    ordered.add(pair.second);
  }
  for (const photos of dataset.people.values()) {
    if (photos.length >= 2) for (const photo of photos.slice(0, MAX_PHOTOS_PER_PERSON)) ordered.add(photo);
  }
  for (const photos of dataset.people.values()) ordered.add(photos[0] as string);
  return [...ordered];
}
