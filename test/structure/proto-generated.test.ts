import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const proto = path.join(root, 'proto');
const generated = path.join(proto, 'src/gen/vigil/v1');
const buf = path.join(root, 'node_modules/.bin/buf');

/** The generated TypeScript without its first line, which names the generator's version. */
function body(file: string): string {
  return fs.readFileSync(file, 'utf8').split('\n').slice(1).join('\n');
}

// alert_pb.ts once carried a field comment the .proto file had since rewritten: nobody had run
// `npm run generate -w proto` after editing it.
describe('proto/src/gen', () => {
  it.skipIf(!fs.existsSync(buf))('is what `buf generate` makes of the .proto files today', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-proto-'));
    try {
      const run = spawnSync(buf, ['generate', '--output', out], {
        cwd: proto,
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${path.join(proto, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}`,
        },
      });
      expect(run.status, run.stderr).toBe(0);
      const fresh = path.join(out, 'src/gen/vigil/v1');
      const files = fs.readdirSync(fresh).sort();
      expect(fs.readdirSync(generated).sort()).toEqual(files);
      for (const file of files)
        expect(body(path.join(generated, file)), `${file}: run npm run generate -w proto`).toBe(
          body(path.join(fresh, file)),
        );
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
