import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The API's layers drawn from its source: SQL lives in `*.repository.ts` files only, and repositories
// are built in the composition root only (services get theirs through their constructors).
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const API_SRC = path.join(ROOT, 'services/api/src');
const COMPOSITION_ROOT = ['repositories.ts', 'composition.ts'];

/** A statement in a string or template literal, or a query run on a connection. */
const SQL =
  /['"`]\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+[a-z_]+\s+SET\s|DELETE\s+FROM\s|WITH\s+[a-z_]+\s+AS\s*\()|\.query\s*[<(]/;
const NEW_REPOSITORY = /\bnew\s+[A-Z][A-Za-z]*Repository\s*\(/;

function apiSources(): string[] {
  return fs
    .readdirSync(API_SRC, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.ts$/.test(file) && !/\.test\.ts$/.test(file))
    .sort();
}

/** `file:line` of each line of `file` (relative to services/api/src) that `pattern` matches. */
function linesMatching(file: string, pattern: RegExp): string[] {
  return fs
    .readFileSync(path.join(API_SRC, file), 'utf8')
    .split('\n')
    .flatMap((line, index) => (pattern.test(line) ? [`${file}:${index + 1}`] : []));
}

describe('API layers', () => {
  it('recognises SQL and repository construction (the checks below can fail)', () => {
    expect(SQL.test("await tx.query('SELECT 1 FROM deployments WHERE id = $1', [id]);")).toBe(true);
    expect(SQL.test('`INSERT INTO alerts (id) VALUES ($1)`')).toBe(true);
    expect(SQL.test("'UPDATE deployments SET threshold = $2 WHERE id = $1'")).toBe(true);
    expect(SQL.test("methods: ['GET', 'POST', 'DELETE']")).toBe(false);
    expect(SQL.test('const { query } = request;')).toBe(false);
    expect(NEW_REPOSITORY.test('await new DeploymentRepository(tx).update(id, changes, tx);')).toBe(true);
  });

  it('keeps SQL in repositories: no other file under services/api/src queries the database', () => {
    const outside = apiSources()
      .filter((file) => !file.endsWith('.repository.ts'))
      .flatMap((file) => linesMatching(file, SQL));
    expect(outside).toEqual([]);
  });

  it('builds repositories only in the composition root (repositories.ts, composition.ts)', () => {
    const outside = apiSources()
      .filter((file) => !COMPOSITION_ROOT.includes(file))
      .flatMap((file) => linesMatching(file, NEW_REPOSITORY));
    expect(outside).toEqual([]);
  });
});
