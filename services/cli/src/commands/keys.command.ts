import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import {
  DataCipher,
  keyFilePaths,
  loadConfig,
  openDatabase,
  parseDataKey,
  rotateDataKey,
  ValidationError,
} from '@vigil/core';
import type { Command } from './command.js';

const USAGE = 'usage: vigil keys rotate [--new-key-file FILE]';

/**
 * `vigil keys rotate`: re-encrypts every reference image and alert crop with a new data key, audited.
 * Embedded mode: the key file is replaced (the new key is staged beside it first, so a crash at any
 * point leaves every blob openable). With VIGIL_DATA_KEY: pass the new key in --new-key-file, then
 * set VIGIL_DATA_KEY to it before starting Vigil again. Run it with Vigil stopped: an embedded
 * database that a running server holds is refused (`database_in_use`, exit status 75).
 */
export const keysCommand: Command = {
  summary: 'rotate the data key: keys rotate [--new-key-file FILE]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { 'new-key-file': { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals[0] !== 'rotate') {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const config = loadConfig();
    const paths = keyFilePaths(config.dataDir);
    let currentKeys: Buffer[];
    if (config.VIGIL_DATA_KEY) {
      currentKeys = [parseDataKey(config.VIGIL_DATA_KEY)];
    } else if (fs.existsSync(paths.current)) {
      currentKeys = [parseDataKey(fs.readFileSync(paths.current, 'utf8'))];
      if (fs.existsSync(paths.next)) currentKeys.push(parseDataKey(fs.readFileSync(paths.next, 'utf8')));
    } else {
      throw new ValidationError(
        `no data key: neither VIGIL_DATA_KEY nor ${paths.current} exists`,
        'no_data_key',
      );
    }
    const newKeyFile = values['new-key-file'];
    if (config.VIGIL_DATA_KEY && !newKeyFile) {
      throw new ValidationError(
        'VIGIL_DATA_KEY is set: give the new key with --new-key-file FILE',
        'new_key_required',
      );
    }
    const newKey = newKeyFile ? parseDataKey(fs.readFileSync(newKeyFile, 'utf8')) : randomBytes(32);
    const [first, ...rest] = currentKeys as [Buffer, ...Buffer[]];
    const current = new DataCipher(first, rest);

    // Opened first: a database that a running server holds is refused before anything is staged.
    const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
    try {
      if (!config.VIGIL_DATA_KEY) {
        fs.writeFileSync(paths.next, `${newKey.toString('base64')}\n`, { mode: 0o600 });
      }
      const result = await rotateDataKey({ db, current, currentKeys, newKey, actorName: 'cli:keys rotate' });
      if (!config.VIGIL_DATA_KEY) fs.renameSync(paths.next, paths.current);
      process.stdout.write(`${JSON.stringify(result)}\n`);
      if (config.VIGIL_DATA_KEY) {
        process.stderr.write('rotated: set VIGIL_DATA_KEY to the new key before starting Vigil again\n');
      }
      return 0;
    } finally {
      await db.close();
    }
  },
};
