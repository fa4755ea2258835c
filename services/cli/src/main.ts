import { isVigilError } from '@vigil/core';
import { commands } from './commands/index.js';

const USAGE = `usage: vigil <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`vigil: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  return command.run(args);
}

/**
 * Exit statuses other than 1 for errors a script should tell apart: 75 (EX_TEMPFAIL, sysexits.h)
 * for "not now", so a refused `vigil audit verify` does not read as a broken trail (1); 2 for a
 * command line to be given another way, as for any usage error.
 */
const EXIT_STATUS_BY_CODE: Record<string, number> = { database_in_use: 75, command_line_too_long: 2 };

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined && code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (isVigilError(error)) {
      process.stderr.write(`vigil: ${error.code}: ${error.message}\n`);
      process.exitCode = EXIT_STATUS_BY_CODE[error.code] ?? 1;
      return;
    }
    process.stderr.write(`vigil: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
