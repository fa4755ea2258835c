import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository } from '../src/index.js';
import { backendName, createTestDatabase, type TestDatabase } from '../src/testing/index.js';

describe(`audit trail (${backendName})`, () => {
  let t: TestDatabase;
  let audit: AuditRepository;
  beforeAll(async () => {
    t = await createTestDatabase();
    audit = new AuditRepository(t.db);
    for (let i = 0; i < 5; i++) {
      await audit.append({
        actorName: 'admin',
        action: 'watchlist.create',
        targetType: 'watchlist',
        targetId: `w${i}`,
        details: { b: i, a: 'x' },
      });
    }
  });
  afterAll(async () => {
    await t.drop();
  });

  it('verifies an untouched chain', async () => {
    expect(await audit.verify()).toEqual({ ok: true, entries: 5 });
  });

  it('rolls back with the transaction it belongs to', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await audit.append({ action: 'subject.create' }, tx);
        throw new Error('enrolment failed');
      }),
    ).rejects.toThrow();
    expect((await audit.list({ action: 'subject.create' })).length).toBe(0);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('names the first altered row', async () => {
    const rows = await audit.list({ limit: 10 });
    const third = rows.find((r) => r.targetId === 'w2');
    // The append-only trigger (migration 040) refuses this; an attacker with superuser bypasses it.
    await t.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query(`UPDATE audit_log SET details = '{"a":"y","b":2}'::jsonb WHERE id = $1`, [third?.id]);
    });
    const result = await audit.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBad).toEqual({ id: third?.id, reason: 'hash_mismatch' });
  });
});
