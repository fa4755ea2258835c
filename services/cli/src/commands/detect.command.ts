import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isVigilError, loadConfig, ValidationError } from '@vigil/core';
import { FaceEngine } from '@vigil/face-runtime';
import { assertCommandLineFits, readPathList } from '../command-line.js';
import type { Command } from './command.js';

/** Rounds for printing: sub-pixel detail below 0.1 px is noise. */
export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The contract's error line for one file. */
export function errorLine(file: string, error: unknown): string {
  if (isVigilError(error))
    return JSON.stringify({ file, error: { code: error.code, message: error.message } });
  return JSON.stringify({
    file,
    error: { code: 'internal_error', message: (error as Error)?.message ?? String(error) },
  });
}

/**
 * Parses `--model PROFILE`, the image paths and `--list FILE` (more paths, one a line; `-` for
 * standard input; listed after the arguments); refuses a command line too long for onnxruntime,
 * then loads the engine from the configuration.
 */
export async function loadEngineForFiles(
  args: string[],
  usage: string,
): Promise<{ engine: FaceEngine; files: string[] }> {
  const { values, positionals } = parseArgs({
    args,
    options: { model: { type: 'string' }, list: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const files =
    values.list === undefined ? positionals : [...positionals, ...(await readPathList(values.list))];
  if (files.length === 0) throw new ValidationError(`usage: ${usage}`);
  assertCommandLineFits();
  const config = loadConfig();
  const engine = await FaceEngine.load(FaceEngine.optionsFromConfig(config, values.model));
  return { engine, files };
}

/**
 * `vigil detect` and `vigil embed`: loads the engine for the command's files and writes one JSON
 * line per file, `describe`'s object or the contract's error line; exit status 1 when any file failed.
 */
export async function linePerFile(
  args: string[],
  usage: string,
  describe: (engine: FaceEngine, file: string) => Promise<object>,
): Promise<number> {
  const { engine, files } = await loadEngineForFiles(args, usage);
  let status = 0;
  try {
    for (const file of files) {
      try {
        process.stdout.write(`${JSON.stringify(await describe(engine, file))}\n`);
      } catch (error) {
        status = 1;
        process.stdout.write(`${errorLine(file, error)}\n`);
      }
    }
  } finally {
    await engine.dispose();
  }
  return status;
}

export const detectCommand: Command = {
  summary: 'detect faces: IMAGE... [--list FILE|-] [--model PROFILE]; one JSON line per image',
  run: (args) =>
    linePerFile(args, 'vigil detect IMAGE... [--list FILE|-] [--model PROFILE]', async (engine, file) => {
      const analysis = await engine.detect(await fs.readFile(file));
      const faces = analysis.faces.map(({ face }) => ({
        box: face.box.map((v) => round(v)),
        score: round(face.score, 4),
        landmarks: face.landmarks.map(([x, y]) => [round(x), round(y)]),
        quality: {
          interOcular: round(face.quality.interOcular),
          sharpness: round(face.quality.sharpness),
          yaw: round(face.quality.yaw),
          pitch: round(face.quality.pitch),
          score: round(face.quality.score, 4),
          brightness: round(face.quality.brightness),
        },
      }));
      return { file, width: analysis.width, height: analysis.height, faces };
    }),
};
