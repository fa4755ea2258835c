import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createRepositories, reembedReferenceImages } from '@vigil/api';
import { keyFilePaths, loadConfig, loadDataCipher, templateKeys, ValidationError } from '@vigil/core';
import { FaceEngine } from '@vigil/face-runtime';
import { openExistingDatabase } from './audit.command.js';
import type { Command } from './command.js';

/**
 * `vigil reembed [--model PROFILE]`: after a model upgrade (a new `modelId`), embeds every stored
 * reference image under the current profile, so deployments created from now on find every
 * subject without their photos being uploaded again; the old model's embeddings stay for
 * deployments created under it. Prints the counts and each image that no longer passes (its
 * reference image id and enrolment code) as JSON; audited. Embedded mode: run it with Vigil
 * stopped (PGlite opens its data directory from one process; `database_in_use` otherwise).
 */
export const reembedCommand: Command = {
  summary: 'reembed [--model PROFILE]: embed stored reference images under the current model (audited)',
  async run(args) {
    const { values } = parseArgs({ args, options: { model: { type: 'string' } }, strict: true });
    const config = loadConfig();
    if (!config.VIGIL_DATA_KEY && !fs.existsSync(keyFilePaths(config.dataDir).current)) {
      throw new ValidationError(
        `no data key: neither VIGIL_DATA_KEY nor ${keyFilePaths(config.dataDir).current} exists`,
        'no_data_key',
      );
    }
    const cipher = loadDataCipher({ dataKey: config.VIGIL_DATA_KEY, dataDir: config.dataDir });
    const db = await openExistingDatabase(config);
    try {
      const engine = await FaceEngine.load(FaceEngine.optionsFromConfig(config, values.model));
      try {
        const result = await reembedReferenceImages({
          repositories: createRepositories(db),
          cipher,
          engine,
          templates: templateKeys(cipher),
          actorName: 'cli:reembed',
          onProgress: (done, total) => {
            if (done % 100 === 0 || done === total) process.stderr.write(`${done}/${total} images\n`);
          },
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return 0;
      } finally {
        await engine.dispose();
      }
    } finally {
      await db.close();
    }
  },
};
