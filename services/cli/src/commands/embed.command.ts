import fs from 'node:fs/promises';
import { ImageError } from '@vigil/core';
import type { FaceEngine } from '@vigil/face-runtime';
import type { Command } from './command.js';
import { linePerFile } from './detect.command.js';

/** The embedding of the largest face in the image at `file`; `no_face` when there is none. */
export async function embedLargestFace(engine: FaceEngine, file: string): Promise<Float32Array> {
  const analysis = await engine.analyse(await fs.readFile(file), { maxFaces: 1 });
  const embedding = analysis.faces[0]?.embedding;
  if (!embedding) throw new ImageError('no_face', `no face was found in ${file}`);
  return embedding;
}

export const embedCommand: Command = {
  summary: 'embed the largest face: IMAGE... [--list FILE|-] [--model PROFILE]; one JSON line per image',
  run: (args) =>
    linePerFile(args, 'vigil embed IMAGE... [--list FILE|-] [--model PROFILE]', async (engine, file) => {
      const embedding = await embedLargestFace(engine, file);
      return { file, model: engine.profile.modelId, embedding: Array.from(embedding) };
    }),
};
