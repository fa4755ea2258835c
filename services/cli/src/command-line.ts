import fs from 'node:fs';
import { ValidationError } from '@vigil/core';

/**
 * The longest command line (bytes of /proc/self/cmdline) a command that creates an onnxruntime
 * session accepts. onnxruntime-node 1.30 crashes with a segmentation fault creating a session in a
 * process whose command line is longer than about 28 KiB (measured here: 27.4 KB ran, 29.3 KB
 * crashed, whatever the environment's size); 24 KiB leaves a margin.
 */
export const MAX_COMMAND_LINE_BYTES = 24 * 1024;

/** This process's command line in bytes: /proc/self/cmdline where there is one, else the arguments. */
export function commandLineBytes(): number {
  try {
    return fs.readFileSync('/proc/self/cmdline').length;
  } catch {
    return [process.execPath, ...process.execArgv, ...process.argv.slice(1)].reduce(
      (total, arg) => total + Buffer.byteLength(arg) + 1,
      0,
    );
  }
}

/**
 * Throws ValidationError `command_line_too_long` when this process's command line is over
 * MAX_COMMAND_LINE_BYTES; call it before the first onnxruntime session is created.
 */
export function assertCommandLineFits(bytes = commandLineBytes()): void {
  if (bytes <= MAX_COMMAND_LINE_BYTES) return;
  throw new ValidationError(
    `the command line is ${bytes} bytes, over the ${MAX_COMMAND_LINE_BYTES} that the model runtime ` +
      'survives: pass the image paths in a file with --list FILE (one a line), or on standard input with --list -',
    'command_line_too_long',
  );
}

async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The paths listed in `source` (a file, or `-` for standard input), one a line; blank lines are
 * skipped, and a line is otherwise the path as written (spaces kept; a trailing CR dropped).
 */
export async function readPathList(source: string): Promise<string[]> {
  let text: string;
  try {
    text = source === '-' ? await readStandardInput() : await fs.promises.readFile(source, 'utf8');
  } catch (error) {
    throw new ValidationError(
      `cannot read the list ${source}: ${(error as Error).message}`,
      'unreadable_list',
    );
  }
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}
