import fs from 'node:fs';
import path from 'node:path';
import type { AuditCheckpoint } from './audit-checkpoint.js';

/** File in the data dir holding the newest signed checkpoint. */
export const AUDIT_CHECKPOINT_FILE_NAME = 'audit-checkpoint.json';

function isCheckpoint(value: unknown): value is AuditCheckpoint {
  const c = value as Partial<AuditCheckpoint> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isSafeInteger(c.headId) &&
    Number.isSafeInteger(c.entries) &&
    typeof c.headHash === 'string' &&
    typeof c.at === 'string' &&
    typeof c.keyId === 'string' &&
    typeof c.signature === 'string'
  );
}

/**
 * The newest checkpoint, kept in a file beside the audit key: outside the database, so a database
 * superuser can neither remove nor roll it back.
 */
export class AuditCheckpointRepository {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, AUDIT_CHECKPOINT_FILE_NAME);
  }

  /** The stored checkpoint; undefined when none was taken; `malformed` when the file is not one. */
  read(): AuditCheckpoint | 'malformed' | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      return isCheckpoint(parsed) ? parsed : 'malformed';
    } catch {
      return 'malformed';
    }
  }

  /** Replaces the stored checkpoint atomically (a reader sees the old one or the new one). */
  write(checkpoint: AuditCheckpoint): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const staging = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(staging, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
    fs.renameSync(staging, this.file);
  }
}
