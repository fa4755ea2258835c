import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The API contract has one source, @vigil/contract (services/contract): the routes take their schemas
// and request types from it and the console its types. These checks keep a second copy from growing
// back: a console file reaching into the API's source tree, or a route writing its request types by
// hand beside the schema that validates them.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('one API contract', () => {
  it('keeps the console out of the API source tree: its types come from @vigil/contract', () => {
    const reaching = tsFiles('services/console/src').filter((file) =>
      /(?:from\s+|import\(\s*)'(?:\.\.\/)+(?:services\/)?api\/|@vigil\/api\b/.test(
        fs.readFileSync(path.join(ROOT, file), 'utf8'),
      ),
    );
    expect(reaching).toEqual([]);
  });

  it('has no route or handler declare its Body, Querystring or Params by hand: the type provider derives them', () => {
    const handWritten = tsFiles('services/api/src/routes').flatMap((file) =>
      [
        ...fs
          .readFileSync(path.join(ROOT, file), 'utf8')
          .matchAll(
            /(?:\.(?:get|post|put|patch|delete|route)|FastifyRequest)<\s*\{[^}]*\b(?:Body|Querystring|Params)\b/g,
          ),
      ].map((match) => `${file}: ${match[0].replace(/\s+/g, ' ')}`),
    );
    expect(handWritten).toEqual([]);
  });

  it('has every route file that validates a request use the TypeBox type provider', () => {
    const untyped = tsFiles('services/api/src/routes').filter((file) => {
      const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
      return /\b(?:body|querystring|params):/.test(source) && !source.includes('TypeBoxTypeProvider');
    });
    expect(untyped).toEqual([]);
  });
});
