import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const samples = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const vigil = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/vigil.mjs');

function run(args: string[]): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [vigil, ...args], { maxBuffer: 10_000_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      const lines = stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, stderr });
    });
  });
}

describe('vigil detect / embed / compare (spawned, default profile)', () => {
  let dir: string;
  let bad: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-'));
    bad = path.join(dir, 'holiday.jpg');
    fs.writeFileSync(bad, 'this is a text file, not a photo\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('detect prints one JSON line per image, an error line for a bad image, and exits 1', async () => {
    const good = path.join(samples, 'sample1.jpg');
    const { code, lines } = await run(['detect', good, bad]);
    expect(code).toBe(1);
    expect(lines).toHaveLength(2);
    const [first, second] = lines as [Record<string, unknown>, Record<string, unknown>];
    expect(first.file).toBe(good);
    const faces = first.faces as {
      box: number[];
      score: number;
      landmarks: number[][];
      quality: Record<string, number>;
    }[];
    expect(faces).toHaveLength(3);
    for (const face of faces) {
      expect(face.box).toHaveLength(4);
      expect(face.score).toBeGreaterThan(0.5);
      expect(face.landmarks).toHaveLength(68);
      expect(Object.keys(face.quality).sort()).toEqual([
        'brightness',
        'interOcular',
        'pitch',
        'score',
        'sharpness',
        'yaw',
      ]);
    }
    expect(second).toEqual({ file: bad, error: { code: 'unsupported_image', message: expect.any(String) } });
  });

  it('embed prints the largest face as a unit-length vector with the model id', async () => {
    const { code, lines } = await run(['embed', path.join(samples, 'sample2.jpg'), bad]);
    expect(code).toBe(1);
    const embedding = lines[0]?.embedding as number[];
    expect(lines[0]?.model).toBe('faceplugin-arcface512-mirror-int8-v1');
    expect(embedding).toHaveLength(512);
    expect(Math.hypot(...embedding)).toBeCloseTo(1, 4);
    expect((lines[1]?.error as { code: string }).code).toBe('unsupported_image');
  });

  it("compare prints similarity, match and the profile's threshold", async () => {
    const { code, lines } = await run([
      'compare',
      path.join(samples, 'sample1.jpg'),
      path.join(samples, 'sample3.jpg'),
    ]);
    expect(code).toBe(0);
    const result = lines[0] as { similarity: number; match: boolean; threshold: number };
    expect(result.threshold).toBeGreaterThan(0);
    expect(result.match).toBe(result.similarity >= result.threshold);
    // The largest face of each photo is the same woman.
    expect(result.match).toBe(true);
  });

  it('compare reports the bad image and exits 1', async () => {
    const { code, lines } = await run(['compare', path.join(samples, 'sample1.jpg'), bad]);
    expect(code).toBe(1);
    expect((lines[0]?.error as { code: string }).code).toBe('unsupported_image');
  });
});
