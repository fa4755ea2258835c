import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The package structure drawn from the imports themselves: every @vigil/* import is a declared
// dependency, and no package reaches back to one that depends on it.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKSPACES = ['services', 'models', 'proto', 'benchmarks', 'test'];

interface Workspace {
  name: string;
  dir: string;
  declared: Set<string>;
  imported: Map<string, string>;
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mjs)$/.test(f) && !f.includes('node_modules') && !f.includes('dist/'))
    .map((f) => path.join(dir, f));
}

function workspaces(): Workspace[] {
  const dirs = WORKSPACES.flatMap((w) =>
    w === 'services'
      ? fs.readdirSync(path.join(ROOT, w)).map((s) => path.join(ROOT, w, s))
      : [path.join(ROOT, w)],
  ).filter((d) => fs.existsSync(path.join(d, 'package.json')));
  return dirs.map((dir) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const declared = new Set(
      Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((d) =>
        d.startsWith('@vigil/'),
      ),
    );
    const imported = new Map<string, string>();
    for (const file of sourceFiles(dir)) {
      for (const match of fs
        .readFileSync(file, 'utf8')
        .matchAll(/(?:from\s+|import\(\s*)'(@vigil\/[a-z-]+)/g)) {
        const dep = match[1];
        if (dep && dep !== manifest.name && !imported.has(dep)) imported.set(dep, path.relative(ROOT, file));
      }
    }
    return { name: manifest.name, dir, declared, imported };
  });
}

describe('package structure', () => {
  const all = workspaces();

  it('declares every @vigil package a package imports', () => {
    const undeclared = all.flatMap((w) =>
      [...w.imported]
        .filter(([dep]) => !w.declared.has(dep))
        .map(([dep, file]) => `${w.name} -> ${dep} (${file})`),
    );
    expect(undeclared).toEqual([]);
  });

  it('has no cycle between packages', () => {
    const edges = new Map(all.map((w) => [w.name, new Set([...w.declared, ...w.imported.keys()])]));
    const cycles: string[] = [];
    const visit = (name: string, trail: string[]) => {
      if (trail.includes(name)) {
        cycles.push([...trail.slice(trail.indexOf(name)), name].join(' -> '));
        return;
      }
      for (const next of edges.get(name) ?? []) visit(next, [...trail, name]);
    };
    for (const w of all) visit(w.name, []);
    expect(cycles).toEqual([]);
  });

  it('keeps faces in one package: only the face runtime opens onnxruntime sessions or decodes images', () => {
    const outside = all
      .filter(
        (w) => !['@vigil/face-runtime', '@vigil/models', '@vigil/benchmarks', '@vigil/test'].includes(w.name),
      )
      .flatMap((w) =>
        sourceFiles(w.dir)
          .filter((f) => /from\s+'onnxruntime-node'/.test(fs.readFileSync(f, 'utf8')))
          .map((f) => path.relative(ROOT, f)),
      );
    expect(outside).toEqual([]);
  });
});
