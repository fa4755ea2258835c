import fs from 'node:fs/promises';
import { ImageError } from '@vigil/core';
import type { FaceEngine } from '@vigil/face-runtime';
import type { Command } from './command.js';
import { errorLine, loadEngineForFiles } from './detect.command.js';

/** The embedding of the largest face in the image at `file`; `no_face` when there is none. */
export async function embedLargestFace(engine: FaceEngine, file: string): Promise<Float32Array> {
  const analysis = await engine.analyse(await fs.readFile(file), { maxFaces: 1 });
  const embedding = analysis.faces[0]?.embedding;
  if (!embedding) throw new ImageError('no_face', `no face was found in ${file}`);
  return embedding;
}

export const embedCommand: Command = {
  summary: 'embed the largest face: IMAGE... [--list FILE|-] [--model PROFILE]; one JSON line per image',
  async run(args) {
    const { engine, files } = await loadEngineForFiles(
      args,
      'vigil embed IMAGE... [--list FILE|-] [--model PROFILE]',
    );
    let status = 0;
    try {
      for (const file of files) {
        try {
          const embedding = await embedLargestFace(engine, file);
          process.stdout.write(
            `${JSON.stringify({ file, model: engine.profile.modelId, embedding: Array.from(embedding) })}\n`,
          );
        } catch (error) {
          status = 1;
          process.stdout.write(`${errorLine(file, error)}\n`);
        }
      }
    } finally {
      await engine.dispose();
    }
    return status;
  },
};
