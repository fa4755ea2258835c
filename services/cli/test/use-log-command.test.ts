import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openDatabase } from '@vigil/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const VIGIL = path.resolve(import.meta.dirname, '../bin/vigil.mjs');

describe('vigil use-log (embedded mode)', () => {
  let dataDir: string;
  let deploymentId: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-use-log-'));
    const db = await openDatabase({ dataDir });
    const deployment = await db.query<{ id: string }>(
      `INSERT INTO deployments (name, location, threshold, model) VALUES ('d', 'Here', 0.6, 'm') RETURNING id`,
    );
    deploymentId = deployment.rows[0]!.id;
    await db.query(`UPDATE deployments SET status = 'running', started_at = now() WHERE id = $1`, [
      deploymentId,
    ]);
    await db.query(`UPDATE deployments SET status = 'stopped', stopped_at = now() WHERE id = $1`, [
      deploymentId,
    ]);
    await db.close();
    env = { ...process.env, VIGIL_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'error' };
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('prints the log as JSON and as CSV, and puts each export on the audit trail', async () => {
    const json = await run('node', [VIGIL, 'use-log', deploymentId], { env });
    const log = JSON.parse(json.stdout) as {
      deploymentId: string;
      retentionDays: number;
      entries: { event: string }[];
    };
    expect(log.deploymentId).toBe(deploymentId);
    expect(log.retentionDays).toBe(183);
    expect(log.entries.map((e) => e.event)).toEqual(['started', 'stopped']);

    const csv = await run('node', [VIGIL, 'use-log', deploymentId, '--csv'], { env });
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('id,at,event,alert_id,details');
    expect(lines).toHaveLength(3);

    const db = await openDatabase({ dataDir, migrate: false });
    const audit = await db.query<{ actor_name: string; details: { format: string } }>(
      `SELECT actor_name, details FROM audit_log WHERE action = 'use_log.export' ORDER BY id`,
    );
    await db.close();
    expect(audit.rows.map((r) => [r.actor_name, r.details.format])).toEqual([
      ['cli:use-log', 'json'],
      ['cli:use-log', 'csv'],
    ]);
  });

  it('says so, with exit status 1, for a deployment that does not exist', async () => {
    const failed = await run('node', [VIGIL, 'use-log', '00000000-0000-4000-8000-000000000000'], {
      env,
    }).then(
      () => undefined,
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(`${failed?.stderr}${failed?.stdout}`).toMatch(/not_found|not found/);
  });
});
