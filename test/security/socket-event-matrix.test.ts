import type { ClientToServerEvents } from '@vigil/contract';
import { backendName, waitFor } from '@vigil/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RealtimeTestApp,
  startRealtimeApp,
  type TestDeployment,
} from '../../services/api/test/realtime-fixtures.js';
import { login, ROLE_PASSWORD } from '../../services/api/test/test-app.js';

/** Every client-to-server event of the typed map; tsc fails here when an event is added without a row. */
const EVENTS = [
  'subscribe',
  'unsubscribe',
  'watch',
  'unwatch',
] as const satisfies readonly (keyof ClientToServerEvents)[];
type Untested = Exclude<keyof ClientToServerEvents, (typeof EVENTS)[number]>;
const everyEventTested: [Untested] extends [never] ? true : never = true;

type Identity =
  | 'no token'
  | 'expired token'
  | 'tampered token'
  | 'admin'
  | 'watchlist_manager'
  | 'oversight'
  | 'operator (assigned)'
  | 'operator (not assigned)';

/** Who may receive deployment A's and B's alerts: the admin both, the operator assigned to A only A. */
const MAY_RECEIVE: Record<Identity, { connects: boolean; deployments: ('A' | 'B')[] }> = {
  'no token': { connects: false, deployments: [] },
  'expired token': { connects: false, deployments: [] },
  'tampered token': { connects: false, deployments: [] },
  admin: { connects: true, deployments: ['A', 'B'] },
  watchlist_manager: { connects: true, deployments: [] },
  oversight: { connects: true, deployments: [] },
  'operator (assigned)': { connects: true, deployments: ['A'] },
  'operator (not assigned)': { connects: true, deployments: [] },
};

const FAKE_ID = '00000000-0000-4000-8000-000000000000';

/** Payloads no handler may choke on: each gets an ok:false ack (or none), never a crash or a grant. */
const HOSTILE_PAYLOADS: unknown[] = [
  null,
  'a string',
  42,
  [],
  {},
  { deploymentId: null },
  { deploymentId: "' OR 1=1 --" },
  { deploymentId: { $ne: null } },
  { deploymentId: ['00000000-0000-4000-8000-000000000000'] },
  JSON.parse('{"__proto__":{"polluted":"yes"},"deploymentId":"x"}'),
  { deploymentId: '00000000-0000-4000-8000-000000000000', since: '1; DROP TABLE alerts' },
  { deploymentId: '00000000-0000-4000-8000-000000000000', since: -1 },
  { deploymentId: 'x'.repeat(8_000) },
];

describe(`socket.io event matrix: every client event x every identity (${backendName})`, () => {
  let t: RealtimeTestApp;
  let a: TestDeployment;
  let b: TestDeployment;
  const tokens = {} as Record<Identity, string | undefined>;

  beforeAll(async () => {
    t = await startRealtimeApp();
    a = await t.deployment('A');
    b = await t.deployment('B');
    await t.assign(a.deploymentId, await t.userId(t.tokens.operator));
    const unassigned = await t.operator('unassigned-operator');
    // The expired token: a real session whose expiry has passed.
    const expiring = await t.operator('expiring-operator');
    await t.assign(a.deploymentId, expiring.id);
    const expired = await login(t.app, 'expiring-operator', ROLE_PASSWORD);
    await t.deps.db.query("UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE user_id = $1", [
      expiring.id,
    ]);
    const admin = t.tokens.admin;
    Object.assign(tokens, {
      'no token': undefined,
      'expired token': expired,
      'tampered token': `${admin.slice(0, -3)}${admin.endsWith('abc') ? 'xyz' : 'abc'}`,
      admin,
      watchlist_manager: t.tokens.watchlist_manager,
      oversight: t.tokens.oversight,
      'operator (assigned)': t.tokens.operator,
      'operator (not assigned)': unassigned.token,
    });
    expect(everyEventTested).toBe(true);
  });

  afterAll(async () => t?.close());

  const connect = async (identity: Identity) => {
    const client = t.client(tokens[identity]);
    try {
      await client.connected();
      return { client, refusal: undefined };
    } catch (error) {
      return { client, refusal: error as { data?: { code?: string } } };
    }
  };

  for (const identity of Object.keys(MAY_RECEIVE) as Identity[]) {
    const expected = MAY_RECEIVE[identity];
    it(`${identity}: ${expected.connects ? `subscribe granted for [${expected.deployments.join(', ')}] only, unsubscribe harmless, hostile payloads refused` : 'handshake refused, no event reaches the server'}`, async () => {
      const { client, refusal } = await connect(identity);
      if (!expected.connects) {
        expect(refusal?.data?.code, identity).toMatch(/^(unauthorized|invalid_token|token_expired)$/);
        expect(client.socket.connected).toBe(false);
        return;
      }
      expect(refusal, identity).toBeUndefined();
      const ids = { A: a.deploymentId, B: b.deploymentId };

      // subscribe
      for (const name of ['A', 'B'] as const) {
        const ack = await client.subscribe(ids[name]);
        if (expected.deployments.includes(name))
          expect(ack, `${identity} subscribe ${name}`).toMatchObject({ ok: true });
        else
          expect(ack, `${identity} subscribe ${name}`).toMatchObject({
            ok: false,
            error: { code: 'not_assigned' },
          });
      }
      // watch: a camera's live view, only of a deployment the caller may receive.
      for (const name of ['A', 'B'] as const) {
        const camera = { A: a.cameraId, B: b.cameraId }[name];
        const ack = await client.socket
          .timeout(5000)
          .emitWithAck('watch', { deploymentId: ids[name], cameraId: camera });
        expect(ack, `${identity} watch ${name}`).toMatchObject(
          expected.deployments.includes(name) ? { ok: true } : { ok: false, error: { code: 'not_assigned' } },
        );
      }
      // Another deployment's camera under a granted deployment's id is refused too.
      expect(
        await client.socket.timeout(5000).emitWithAck('watch', { deploymentId: ids.A, cameraId: b.cameraId }),
      ).toMatchObject({ ok: false });
      for (const payload of HOSTILE_PAYLOADS) {
        for (const event of EVENTS) {
          const ack = await client.socket.timeout(5000).emitWithAck(event, payload as never);
          const what = `${identity} ${event} ${JSON.stringify(payload)?.slice(0, 80)}`;
          // Leaving a room one is not in is harmless, so a well-formed unsubscribe is acknowledged.
          const wellFormedUnsubscribe =
            event === 'unsubscribe' && (payload as { deploymentId?: unknown })?.deploymentId === FAKE_ID;
          expect(ack, what).toMatchObject({ ok: wellFormedUnsubscribe });
        }
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      // Unknown events are ignored, and the socket stays up.
      (client.socket as unknown as { emit(event: string, ...args: unknown[]): void }).emit('admin:grant', {
        role: 'admin',
      });
      // unsubscribe: harmless for anyone; it cannot open a deployment the caller may not see.
      const unsubscribeB = await client.socket
        .timeout(5000)
        .emitWithAck('unsubscribe', { deploymentId: ids.B });
      expect(unsubscribeB).toMatchObject({ ok: true });
      if (expected.deployments.includes('B'))
        expect(await client.subscribe(ids.B)).toMatchObject({ ok: true });
      expect(client.socket.connected).toBe(true);
      // A message over the server's 16 KiB buffer limit closes that socket rather than reaching a handler.
      const oversized = await connect(identity);
      const closed = new Promise((resolve) => oversized.client.socket.once('disconnect', resolve));
      oversized.client.socket.emit('subscribe', { deploymentId: 'x'.repeat(100_000) });
      await closed;
      expect(oversized.client.alerts).toEqual([]);

      // What actually arrives: only the alerts of deployments granted above.
      const stored = {
        A: await t.store(a),
        B: await t.store(b),
      };
      const want = expected.deployments.map((name) => stored[name].id).sort();
      if (want.length > 0) await waitFor(() => client.alerts.length >= want.length, 20_000);
      else {
        // Nothing may come: give a granted admin socket time to see both, then check this one saw none.
        const witness = await connect('admin');
        await witness.client.subscribe(ids.A);
        const third = await t.store(a);
        await waitFor(() => witness.client.alerts.some((alert) => alert.id === third.id), 20_000);
        witness.client.close();
      }
      const received = client.alerts
        .map((alert) => alert.id)
        .filter((id) => id === stored.A.id || id === stored.B.id);
      expect(received.sort(), identity).toEqual(want);
      for (const alert of client.alerts)
        expect(expected.deployments.map((n) => ids[n])).toContain(alert.deploymentId);
      client.close();
    });
  }
});
