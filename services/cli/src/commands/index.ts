import { auditCommand } from './audit.command.js';
import { calibrateCommand } from './calibrate.command.js';
import type { Command } from './command.js';
import { compareCommand } from './compare.command.js';
import { detectCommand } from './detect.command.js';
import { embedCommand } from './embed.command.js';
import { evalCommand } from './eval.command.js';
import { keysCommand } from './keys.command.js';
import { migrateCommand } from './migrate.command.js';
import { reembedCommand } from './reembed.command.js';
import { retentionCommand } from './retention.command.js';
import { serveCommand } from './serve.command.js';
import { useLogCommand } from './use-log.command.js';

/** Every `vigil` sub-command, by name. */
export const commands: Record<string, Command> = {
  serve: serveCommand,
  detect: detectCommand,
  embed: embedCommand,
  compare: compareCommand,
  eval: evalCommand,
  keys: keysCommand,
  migrate: migrateCommand,
  audit: auditCommand,
  retention: retentionCommand,
  calibrate: calibrateCommand,
  reembed: reembedCommand,
  'use-log': useLogCommand,
};
