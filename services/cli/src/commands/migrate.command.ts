import { parseArgs } from 'node:util';
import { listMigrations, loadConfig, migrate, openDatabase } from '@vigil/core';
import type { Command } from './command.js';

/**
 * `vigil migrate`: applies pending migrations and exits. Split deployments run it once, as the
 * migration role (DATABASE_URL of vigil_migrate), before the roles start with VIGIL_MIGRATE=false
 * and the application role, which may not create or alter tables.
 */
export const migrateCommand: Command = {
  summary: 'apply pending database migrations and exit (run as the migration role)',
  async run(args) {
    parseArgs({ args, options: {}, strict: true });
    const config = loadConfig();
    const db = await openDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.dataDir,
      migrate: false,
    });
    try {
      const applied = await migrate(db);
      process.stdout.write(
        `${JSON.stringify({ applied, latest: listMigrations().at(-1)?.version ?? null, database: db.kind })}\n`,
      );
      return 0;
    } finally {
      await db.close();
    }
  },
};
