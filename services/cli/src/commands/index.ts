import type { Command } from './command.js';
import { serveCommand } from './serve.command.js';

/** Every `vigil` sub-command, by name. */
export const commands: Record<string, Command> = {
  serve: serveCommand,
};
