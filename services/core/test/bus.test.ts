import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '../src/index.js';
import { backendName, createTestBus, uniqueToken, waitFor } from '../src/testing/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe(`bus (${backendName})`, () => {
  let bus: Bus;
  beforeAll(async () => {
    bus = await createTestBus();
  });
  afterAll(async () => {
    await bus.close();
  });

  it('delivers each message to exactly one member of a queue group, and to every plain subscriber', async () => {
    const root = `test.${uniqueToken()}`;
    const received: Record<string, string[]> = { a: [], b: [], plain: [] };
    const subs = [
      bus.subscribe(`${root}.work.*`, (m) => void received.a?.push(decoder.decode(m.data)), {
        queue: 'workers',
      }),
      bus.subscribe(`${root}.work.*`, (m) => void received.b?.push(decoder.decode(m.data)), {
        queue: 'workers',
      }),
      bus.subscribe(`${root}.>`, (m) => void received.plain?.push(decoder.decode(m.data))),
    ];
    await bus.flush();
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const text of sent) bus.publish(`${root}.work.cam1`, encoder.encode(text));
    await bus.flush();
    await waitFor(
      () => (received.a?.length ?? 0) + (received.b?.length ?? 0) === 50 && received.plain?.length === 50,
    );
    const grouped = [...(received.a ?? []), ...(received.b ?? [])].sort();
    expect(grouped).toEqual([...sent].sort());
    expect(new Set(grouped).size).toBe(50);
    expect(received.a?.length).toBeGreaterThan(0);
    expect(received.b?.length).toBeGreaterThan(0);
    for (const sub of subs) sub.unsubscribe();
  });

  it('wildcards follow NATS rules: * is one token, > is the rest', async () => {
    const root = `test.${uniqueToken()}`;
    const star: string[] = [];
    const sub = bus.subscribe(`${root}.*.x`, (m) => void star.push(m.subject));
    await bus.flush();
    bus.publish(`${root}.a.x`, encoder.encode('1'));
    bus.publish(`${root}.a.b.x`, encoder.encode('2'));
    bus.publish(`${root}.a.y`, encoder.encode('3'));
    await bus.flush();
    await waitFor(() => star.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(star).toEqual([`${root}.a.x`]);
    sub.unsubscribe();
  });

  it('answers a request through request/reply, and fails fast with no responders', async () => {
    const root = `test.${uniqueToken()}`;
    const sub = bus.subscribe(`${root}.echo`, (m) =>
      m.respond(encoder.encode(`echo:${decoder.decode(m.data)}`)),
    );
    await bus.flush();
    const answer = await bus.request(`${root}.echo`, encoder.encode('hi'), { timeoutMs: 2000 });
    expect(decoder.decode(answer.data)).toBe('echo:hi');
    await expect(
      bus.request(`${root}.nobody`, encoder.encode('x'), { timeoutMs: 2000 }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/bus_no_responders|bus_timeout/),
    });
    sub.unsubscribe();
  });

  it('a slow subscriber drops and counts messages past its pending limit instead of blocking the publisher', async () => {
    const root = `test.${uniqueToken()}`;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let handled = 0;
    const sub = bus.subscribe(
      `${root}.frames`,
      async () => {
        await gate;
        handled++;
      },
      { maxPending: 5 },
    );
    await bus.flush();
    for (let i = 0; i < 40; i++) bus.publish(`${root}.frames`, encoder.encode(String(i)));
    await bus.flush();
    await waitFor(() => sub.dropped + sub.pending >= 39);
    expect(sub.dropped).toBeGreaterThan(0);
    release();
    await waitFor(() => sub.pending === 0);
    expect(handled + sub.dropped).toBe(40);
    sub.unsubscribe();
  });

  it('the durable stream redelivers an alert whose handler failed, and shares a durable consumer', async () => {
    const deployment = uniqueToken();
    const subject = `vigil.v1.${deployment}.alerts.cam1`;
    const seen: string[] = [];
    let failures = 0;
    const consumer = await bus.durable.consume(
      { durableName: `test-${deployment}`, filter: `vigil.v1.${deployment}.alerts.*`, ackWaitSeconds: 2 },
      async (m) => {
        const text = decoder.decode(m.data);
        if (text === 'a2' && failures === 0) {
          failures++;
          throw new Error('store failed');
        }
        seen.push(text);
      },
    );
    for (const text of ['a1', 'a2', 'a3']) await bus.durable.publish(subject, encoder.encode(text));
    await waitFor(() => seen.length >= 3, 15_000);
    expect(seen.sort()).toEqual(['a1', 'a2', 'a3']);
    expect(failures).toBe(1);
    await consumer.stop();
  });

  it('erases the durable messages that match, reading the stream once without waiting at its end', async () => {
    const deployment = uniqueToken();
    const subject = `vigil.v1.${deployment}.alerts.cam1`;
    for (const text of ['keep-1', 'erase-me', 'keep-2'])
      await bus.durable.publish(subject, encoder.encode(text));
    const started = performance.now();
    const erased = await bus.durable.erase(
      (m) => m.subject === subject && decoder.decode(m.data) === 'erase-me',
    );
    const seconds = (performance.now() - started) / 1000;
    expect(erased).toBe(1);
    // Every subject deletion and retention run erases: it must not wait out a fetch's 2 s expiry.
    expect(seconds).toBeLessThan(1.5);
    const left: string[] = [];
    await bus.durable.erase((m) => {
      if (m.subject === subject) left.push(decoder.decode(m.data));
      return false;
    });
    expect(left.sort()).toEqual(['keep-1', 'keep-2']);
  });
});
