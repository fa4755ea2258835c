import { ValidationError } from '@vigil/core';
import type { Command } from './command.js';
import { errorLine, loadEngineForFiles, round } from './detect.command.js';
import { embedLargestFace } from './embed.command.js';

export const compareCommand: Command = {
  summary:
    "compare the largest faces of two images: IMAGE_A IMAGE_B [--model PROFILE]; prints the profile's threshold",
  async run(args) {
    const usage = 'vigil compare IMAGE_A IMAGE_B [--model PROFILE]';
    const { engine, files } = await loadEngineForFiles(args, usage);
    try {
      if (files.length !== 2) throw new ValidationError(`usage: ${usage}`);
      const embeddings: Float32Array[] = [];
      for (const file of files) {
        try {
          embeddings.push(await embedLargestFace(engine, file));
        } catch (error) {
          process.stdout.write(`${errorLine(file, error)}\n`);
          return 1;
        }
      }
      const similarity = engine.similarity(embeddings[0] as Float32Array, embeddings[1] as Float32Array);
      const threshold = engine.threshold;
      process.stdout.write(
        `${JSON.stringify({ similarity: round(similarity, 4), match: similarity >= threshold, threshold, model: engine.profile.modelId })}\n`,
      );
      return 0;
    } finally {
      await engine.dispose();
    }
  },
};
