import fs from 'node:fs';
import { ConflictError } from '../errors.js';

/** A lock file this process holds; `release` removes it (once). */
export interface DirectoryLock {
  readonly path: string;
  release(): void;
}

/** Lock files this process holds, so a second open of the same directory here is refused too. */
const held = new Set<string>();

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holderOf(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `lockPath` for this process (the file holds its pid), or throws ConflictError
 * `database_in_use` naming the live process that holds it. A lock left by a process that is gone
 * is taken over; so is one naming this process's own pid that this process did not take (a
 * container restarted with the same pid). `what` names the locked thing in the message.
 */
export function acquireDirectoryLock(lockPath: string, what: string): DirectoryLock {
  const refuse = (pid: number | string) =>
    new ConflictError(
      `${what} is open in another process (pid ${pid}, e.g. a running Vigil server); stop it and try again, ` +
        `or use the API. (Lock file: ${lockPath}.)`,
      'database_in_use',
    );
  if (held.has(lockPath)) throw refuse(`${process.pid}, this one`);
  // Two tries: the second after removing a stale lock; losing that race to another process is a refusal.
  for (let attempt = 0; attempt < 2; attempt++) {
    // Written beside it, then linked into place: the lock file appears whole (never empty) or not at all.
    const staged = `${lockPath}.${process.pid}`;
    fs.writeFileSync(staged, `${process.pid}\n`, { mode: 0o644 });
    try {
      fs.linkSync(staged, lockPath);
      held.add(lockPath);
      const onExit = () => release();
      const release = () => {
        if (!held.delete(lockPath)) return;
        process.off('exit', onExit);
        if (holderOf(lockPath) === process.pid) fs.rmSync(lockPath, { force: true });
      };
      // A process that exits without closing the database (process.exit) leaves no lock behind.
      process.on('exit', onExit);
      return { path: lockPath, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(staged, { force: true });
    }
    const holder = holderOf(lockPath);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) throw refuse(holder);
    fs.rmSync(lockPath, { force: true });
  }
  throw refuse(holderOf(lockPath) ?? 'unknown');
}
