import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../deploy/postgres/set-passwords.sh',
);

// Security review, issue #22 item 11: set-passwords.sh said psql variables kept the passwords out of
// the process list, but passed them as `--set=name=PASSWORD`, i.e. in psql's argv (`ps` shows it).
describe('deploy/postgres/set-passwords.sh', () => {
  let dir: string;
  let secrets: string;
  const passwords = {
    db_app_password: `app ${randomBytes(9).toString('hex')}'"$x`,
    db_migrate_password: `migrate ${randomBytes(9).toString('hex')}`,
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-set-passwords-'));
    secrets = path.join(dir, 'secrets');
    fs.mkdirSync(secrets);
    for (const [name, value] of Object.entries(passwords)) fs.writeFileSync(path.join(secrets, name), value);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names no password variable on the psql command line', () => {
    const text = fs.readFileSync(SCRIPT, 'utf8');
    const commandLine = /^psql [\s\S]*?<</m.exec(text)?.[0];
    expect(commandLine).toBeDefined();
    expect(commandLine).not.toMatch(/password/i);
  });

  it('gives psql no password in its arguments, environment or standard input', () => {
    // A stand-in psql on PATH that records what it was started with; the SQL it received is run by
    // the real psql in the next test.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, 'psql'),
      `#!/usr/bin/env bash\nprintf '%s\\n' "$@" >"${dir}/argv"\nenv >"${dir}/env"\ncat >"${dir}/stdin"\n`,
      { mode: 0o755 },
    );
    const result = spawnSync('bash', [SCRIPT], {
      env: { PATH: `${bin}:${process.env.PATH}`, SECRETS_DIR: secrets },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    for (const recorded of ['argv', 'env', 'stdin']) {
      const text = fs.readFileSync(path.join(dir, recorded), 'utf8');
      for (const value of Object.values(passwords)) expect(text, recorded).not.toContain(value);
    }
    expect(fs.readFileSync(path.join(dir, 'argv'), 'utf8')).toContain(`secrets_dir=${secrets}`);
  });

  it('on PostgreSQL: the SQL it feeds psql reads each secret file whole and quotes it', () => {
    if (!process.env.DATABASE_URL) {
      // No server to run psql against; the postgres+nats run holds this test.
      return;
    }
    const sql = fs.readFileSync(path.join(dir, 'stdin'), 'utf8');
    // ALTER ROLE would change the cluster-wide roles other tests log in as: select the values instead.
    const probe = sql.replace(/ALTER ROLE (\w+) PASSWORD (:'\w+');/g, "SELECT '$1', $2;");
    expect(probe).not.toBe(sql);
    const result = spawnSync(
      'psql',
      [
        '-v',
        'ON_ERROR_STOP=1',
        '-X',
        '-A',
        '-t',
        '-F',
        '|',
        `--set=secrets_dir=${secrets}`,
        process.env.DATABASE_URL,
      ],
      { input: probe, encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      `vigil_app|${passwords.db_app_password}`,
      `vigil_migrate|${passwords.db_migrate_password}`,
    ]);
  });

  it('refuses to run without both secret files', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    const result = spawnSync('bash', [SCRIPT], {
      env: { PATH: process.env.PATH, SECRETS_DIR: empty },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('db_app_password is missing');
  });
});
