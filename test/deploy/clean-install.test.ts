/**
 * `npm ci` on the oldest Node the README names prints no warning a user must wonder about (issue #23):
 * no EBADENGINE for a package that wants a newer Node, no install script npm asks about.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface LockedPackage {
  version?: string;
  engines?: { node?: string };
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
}

// npm's own range rules, through the semver that fastify (a runtime dependency) ships with.
const semver = createRequire(path.join(ROOT, 'node_modules/fastify/package.json'))('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  allowScripts: Record<string, boolean>;
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};

/** The package name of a lockfile key such as `node_modules/a/node_modules/@b/c`. */
function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** Whether npm installs the package on this platform (platform binaries list their os and cpu). */
function installedHere(entry: LockedPackage): boolean {
  const allows = (list: string[] | undefined, value: string) =>
    !list ||
    list.includes(value) ||
    (list.every((item) => item.startsWith('!')) && !list.includes(`!${value}`));
  return allows(entry.os, process.platform) && allows(entry.cpu, process.arch);
}

const installed = Object.entries(lock.packages).filter(
  ([key, entry]) => key.includes('node_modules/') && installedHere(entry),
);

describe('a clean install (issue #23)', () => {
  it('locks no package whose engines exclude the oldest Node the project supports', () => {
    const oldest = semver.minVersion(manifest.engines.node)?.version;
    expect(oldest).toBe('20.19.0');
    const refusing = installed
      .filter(([, entry]) => entry.engines?.node && !semver.satisfies(oldest ?? '', entry.engines.node))
      .map(([key, entry]) => `${nameOf(key)}@${entry.version} wants node ${entry.engines?.node}`);
    expect(refusing).toEqual([]);
  });

  it('names every package with an install script in allowScripts, and denies onnxruntime-node its CUDA download', () => {
    const unlisted = installed
      .filter(([key, entry]) => entry.hasInstallScript && !(nameOf(key) in manifest.allowScripts))
      .map(([key, entry]) => `${nameOf(key)}@${entry.version}`);
    expect(unlisted).toEqual([]);
    expect(manifest.allowScripts['onnxruntime-node']).toBe(false);
  });
});
