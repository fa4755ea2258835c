import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { DataCipher, type NatsBus, openBus, type StoredMessage } from '@vigil/core';
import { backendName, uniqueToken } from '@vigil/core/testing';
import { decodeAlert } from '@vigil/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetentionService } from '../../src/oversight/retention.service.js';
import { createRepositories } from '../../src/repositories.js';
import {
  createDeployment,
  removeAlertConsumer,
  storeAlert,
  type TestDeployment,
} from '../realtime-fixtures.js';
import { bearer, createTestApp, type TestApp } from '../test-app.js';

const DAY_MS = 86_400_000;

/** Issue #22 item 8: nothing in the JetStream alert stream outlives its retention. */
describe(`the alert stream's retention (${backendName})`, () => {
  const cipher = new DataCipher(randomBytes(32));
  const consumer = `test-${uniqueToken()}`;
  let t: TestApp;

  /** The subject ids of the alerts the stream now holds for `deployments`. */
  const streamed = async (...deployments: TestDeployment[]) => {
    const ids = new Set(deployments.map((d) => d.deploymentId));
    const held: string[] = [];
    await t.deps.bus.durable.erase((message: StoredMessage) => {
      try {
        const alert = decodeAlert(message.data);
        if (ids.has(alert.deploymentId)) held.push(alert.subjectId);
      } catch {
        // Another test's message on a shared server: not an alert.
      }
      return false;
    });
    return held;
  };

  beforeAll(async () => {
    t = await createTestApp({ cipher, env: { VIGIL_ALERT_CONSUMER: consumer } });
  });
  afterAll(async () => {
    await t?.close();
    await removeAlertConsumer(consumer);
  });

  it.skipIf(!process.env.NATS_URL)(
    'keeps alerts in the stream for VIGIL_ALERT_RETENTION_DAYS, not a fixed 31 days',
    async () => {
      const bus = await openBus({ natsUrl: process.env.NATS_URL, name: 'retention-age', alertMaxAgeDays: 7 });
      try {
        // The stream is set up on first use.
        await bus.durable.erase(() => false);
        const jsm = await jetstreamManager((bus as NatsBus).connection);
        const info = await jsm.streams.info('VIGIL_ALERTS');
        expect(info.config.max_age).toBe(nanos(7 * DAY_MS));
      } finally {
        await bus.close();
      }
    },
  );

  it('erases alerts past the retention period from the stream when retention runs', async () => {
    const due = await createDeployment(t.deps.db, 'Due');
    await storeAlert(t.deps.db, t.deps.bus, cipher, due);
    await storeAlert(t.deps.db, t.deps.bus, cipher, due);
    expect(await streamed(due)).toHaveLength(2);
    const later = () => new Date(Date.now() + 2 * DAY_MS);
    const report = await new RetentionService(
      createRepositories(t.deps.db),
      { snapshotGraceHours: 24, alertRetentionDays: 1 },
      later,
      t.deps.bus,
    ).run();
    expect(report.alerts.find((a) => a.deploymentId === due.deploymentId)?.alerts).toBe(2);
    expect(await streamed(due)).toEqual([]);
  });

  it("erases a deleted subject's alerts from the stream and leaves everyone else's", async () => {
    const deleted = await createDeployment(t.deps.db, 'Deleted subject');
    const kept = await createDeployment(t.deps.db, 'Kept subject');
    await storeAlert(t.deps.db, t.deps.bus, cipher, deleted);
    await storeAlert(t.deps.db, t.deps.bus, cipher, kept);
    expect((await streamed(deleted, kept)).sort()).toEqual([deleted.subjectId, kept.subjectId].sort());
    const response = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/subjects/${deleted.subjectId}`,
      headers: bearer(t.tokens.watchlist_manager),
    });
    expect(response.statusCode, response.body).toBe(204);
    expect(await streamed(deleted, kept)).toEqual([kept.subjectId]);
  });
});
