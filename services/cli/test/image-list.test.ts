import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const SAMPLES = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.mjs');

interface Run {
  status: number | null;
  signal: string | null;
  lines: Record<string, unknown>[];
  stdout: string;
  stderr: string;
}

function vigil(args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [VIGIL, ...args],
      { maxBuffer: 50_000_000 },
      (error, stdout, stderr) => {
        const failure = error as { code?: number | null; signal?: string | null } | null;
        const lines = stdout
          .split('\n')
          .filter((line) => line.trim())
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        resolve({
          status: failure ? (failure.code ?? null) : 0,
          signal: failure?.signal ?? null,
          lines,
          stdout,
          stderr,
        });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

// onnxruntime-node 1.30 crashes (SIGSEGV) creating a session in a process whose command line is over
// about 28 KiB: 330 LFW paths as arguments killed `vigil embed` before it embedded anything.
describe('vigil embed / detect --list (spawned)', () => {
  let dir: string;
  /** 400 paths of about 100 characters: 40 KB, over the limit as arguments. */
  let longPaths: string[];

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-list-'));
    longPaths = Array.from({ length: 400 }, (_, i) =>
      path.join(dir, `${String(i).padStart(60, '0')}`, `photo-of-someone-${i}.jpg`),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('embeds every path of a list file, one JSON line each, in order, after the arguments', async () => {
    const listed = [
      path.join(SAMPLES, 'sample3.jpg'),
      path.join(dir, 'missing.jpg'),
      path.join(SAMPLES, 'sample2.jpg'),
    ];
    const list = path.join(dir, 'images.txt');
    fs.writeFileSync(list, `${listed[0]}\r\n\n${listed[1]}\n${listed[2]}`);
    const first = path.join(SAMPLES, 'sample2.jpg');
    const run = await vigil(['embed', first, '--list', list]);
    expect(run.signal).toBeNull();
    expect(run.lines.map((line) => line.file)).toEqual([first, ...listed]);
    expect(run.lines[0]?.embedding).toEqual(run.lines[3]?.embedding);
    expect((run.lines[1]?.embedding as number[]).length).toBeGreaterThan(0);
    expect(run.lines[2]?.error).toMatchObject({ code: expect.any(String) });
    // One path could not be read: exit status 1, as with arguments.
    expect(run.status).toBe(1);
  });

  it('detects the faces of paths read from standard input with --list -', async () => {
    const listed = [path.join(SAMPLES, 'sample1.jpg'), path.join(SAMPLES, 'sample3.jpg')];
    const run = await vigil(['detect', '--list', '-'], `${listed.join('\n')}\n`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.lines.map((line) => line.file)).toEqual(listed);
    for (const line of run.lines) expect((line.faces as unknown[]).length).toBeGreaterThan(0);
  });

  it('takes 400 long paths from a list without crashing', async () => {
    const list = path.join(dir, 'long.txt');
    fs.writeFileSync(list, `${[path.join(SAMPLES, 'sample2.jpg'), ...longPaths].join('\n')}\n`);
    const run = await vigil(['embed', '--list', list]);
    expect(run.signal).toBeNull();
    expect(run.lines).toHaveLength(401);
    expect(run.lines[0]?.embedding).toBeDefined();
    expect(run.lines[400]).toMatchObject({ file: longPaths[399], error: { code: expect.any(String) } });
    expect(run.status).toBe(1);
  });

  it('refuses 400 long paths as arguments with command_line_too_long and exit status 2, not a crash', async () => {
    for (const command of ['embed', 'detect']) {
      const run = await vigil([command, path.join(SAMPLES, 'sample2.jpg'), ...longPaths]);
      expect(run.signal, command).toBeNull();
      expect(run.stderr).toMatch(/^vigil: command_line_too_long: .*--list FILE/);
      expect(run.stdout).toBe('');
      expect(run.status).toBe(2);
    }
  });

  it('says what is wrong with a list that cannot be read', async () => {
    const run = await vigil(['embed', '--list', path.join(dir, 'no-such-list.txt')]);
    expect(run.stderr).toMatch(/^vigil: unreadable_list: cannot read the list/);
    expect(run.status).toBe(1);
  });
});
