import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../bus/memory-bus.js';
import { allowLabelTokens, assertSafeLabels, isSafeLabelValue, MetricLabelError } from './label-guard.js';
import { createMetrics, MAX_SERIES_PER_METRIC } from './metrics.registry.js';
import { parsePrometheusText } from './prometheus-text.js';
import { trackSubscription } from './subscription.tracker.js';

const deployment = randomUUID();
const camera = randomUUID();
/** `promtool` comes with Prometheus (Debian: `apt-get install prometheus`); CI may not have it. */
const promtoolInstalled = spawnSync('promtool', ['--version']).status === 0;

describe('metrics registry', () => {
  it('exposes every pipeline metric as parseable Prometheus text with the role on each series', async () => {
    const metrics = createMetrics({ role: 'detector', processMetrics: false });
    metrics.framesIn.inc({ deployment, camera }, 3);
    metrics.framesDropped.inc({ deployment, camera, reason: 'queue_full' });
    metrics.facesProcessed.inc({ deployment, camera }, 2);
    metrics.embeddings.inc({ deployment, camera }, 2);
    metrics.matchQueries.inc({ deployment }, 2);
    metrics.matches.inc({ deployment });
    metrics.alerts.inc({ deployment, camera });
    metrics.stageSeconds.observe({ stage: 'detect' }, 0.012);
    const stop = metrics.modelSeconds.startTimer({ stage: 'embed' });
    expect(stop()).toBeGreaterThanOrEqual(0);
    await metrics.databaseSeconds.time({ stage: 'match_query' }, async () => 1);
    metrics.queueDepth.set({ stage: 'frames' }, 7);
    metrics.restarts.inc({ stage: 'detect', reason: 'crash' });
    metrics.cameraRestarts.inc({ deployment, camera, reason: 'stall' });

    const { samples, types } = parsePrometheusText(await metrics.text());
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;

    expect(value('vigil_frames_in_total', { deployment, camera, role: 'detector' })).toBe(3);
    expect(value('vigil_frames_dropped_total', { reason: 'queue_full' })).toBe(1);
    expect(value('vigil_faces_processed_total')).toBe(2);
    expect(value('vigil_embeddings_total')).toBe(2);
    expect(value('vigil_match_queries_total')).toBe(2);
    expect(value('vigil_matches_total')).toBe(1);
    expect(value('vigil_alerts_total')).toBe(1);
    expect(value('vigil_stage_duration_seconds_count', { stage: 'detect' })).toBe(1);
    expect(value('vigil_stage_duration_seconds_bucket', { stage: 'detect', le: '0.025' })).toBe(1);
    expect(value('vigil_stage_duration_seconds_bucket', { stage: 'detect', le: '0.01' })).toBe(0);
    expect(value('vigil_model_inference_seconds_count', { stage: 'embed' })).toBe(1);
    expect(value('vigil_database_query_seconds_count', { stage: 'match_query' })).toBe(1);
    expect(value('vigil_queue_depth', { stage: 'frames' })).toBe(7);
    expect(value('vigil_restarts_total', { stage: 'detect', reason: 'crash' })).toBe(1);
    expect(value('vigil_camera_restarts_total', { reason: 'stall' })).toBe(1);
    expect(value('vigil_process_start_time_seconds')).toBeGreaterThan(1_700_000_000);
    expect(types.get('vigil_stage_duration_seconds')).toBe('histogram');
    expect(types.get('vigil_queue_depth')).toBe('gauge');
    expect(types.get('vigil_alerts_total')).toBe('counter');
    for (const sample of samples) expect(sample.labels.role).toBe('detector');
    const labelNames = new Set(samples.flatMap((s) => Object.keys(s.labels)));
    expect([...labelNames].sort()).toEqual(['camera', 'deployment', 'le', 'reason', 'role', 'stage']);
  });

  it('includes process metrics by default', async () => {
    const metrics = createMetrics({ role: 'api' });
    const { samples } = parsePrometheusText(await metrics.text());
    expect(samples.some((s) => s.name === 'process_start_time_seconds')).toBe(true);
    expect(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('names no gauge *_total, the suffix Prometheus keeps for counters (issue 26)', async () => {
    // prom-client's defaults include nodejs_active_{handles,requests,resources}_total gauges.
    const metrics = createMetrics({ role: 'ingest' });
    const { types } = parsePrometheusText(await metrics.text());
    const gauges = [...types].filter(([, type]) => type === 'gauge').map(([name]) => name);
    expect(gauges).toContain('nodejs_active_handles');
    expect(gauges.filter((name) => name.endsWith('_total'))).toEqual([]);
    expect([...types].filter(([name]) => name.endsWith('_total')).every(([, t]) => t === 'counter')).toBe(
      true,
    );
  });

  it.skipIf(!promtoolInstalled)(
    'passes `promtool check metrics` with process metrics and every Vigil series recorded (issue 26)',
    async () => {
      const metrics = createMetrics({ role: 'all' });
      metrics.framesIn.inc({ deployment, camera });
      metrics.framesDropped.inc({ deployment, camera, reason: 'queue_full' });
      metrics.alerts.inc({ deployment, camera });
      metrics.stageSeconds.observe({ stage: 'detect' }, 0.01);
      metrics.modelSeconds.observe({ stage: 'embed' }, 0.004);
      metrics.modelLoadSeconds.set({ stage: 'embed' }, 1.2);
      metrics.cameraOnline.set({ deployment, camera }, 1);
      metrics.cameraFps.set({ deployment, camera }, 10);
      const result = spawnSync('promtool', ['check', 'metrics'], {
        input: await metrics.text(),
        encoding: 'utf8',
      });
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.status).toBe(0);
    },
  );

  it('forgets one camera’s series and leaves the other cameras’', async () => {
    const metrics = createMetrics({ role: 'ingest', processMetrics: false });
    const other = randomUUID();
    metrics.framesIn.inc({ deployment, camera });
    metrics.framesIn.inc({ deployment, camera: other });
    metrics.cameraOnline.set({ deployment, camera }, 0);
    metrics.cameraFps.set({ deployment, camera }, 0);
    metrics.cameraRestarts.inc({ deployment, camera, reason: 'stall' });
    metrics.forgetCamera(deployment, camera);
    const text = await metrics.text();
    expect(text).not.toContain(camera);
    expect(text).toContain(other);
  });

  it('forgets a deployment’s series when it ends', async () => {
    const metrics = createMetrics({ role: 'ingest', processMetrics: false });
    const other = randomUUID();
    metrics.framesIn.inc({ deployment, camera });
    metrics.framesIn.inc({ deployment: other, camera });
    metrics.cameraOnline.set({ deployment, camera }, 1);
    metrics.forgetDeployment(deployment);
    const text = await metrics.text();
    expect(text).not.toContain(deployment);
    expect(text).toContain(other);
  });

  it('refuses a role that is not a known token', () => {
    expect(() => createMetrics({ role: 'Alice' as 'api', processMetrics: false })).toThrow(MetricLabelError);
  });
});

describe('label guard', () => {
  const refused: [string, string][] = [
    ['camera', 'Front door'],
    ['camera', 'alice'],
    ['deployment', 'John Smith'],
    ['deployment', '12345'],
    ['camera', `${randomUUID()} `],
    ['camera', randomUUID().toUpperCase().replace(/-/g, '')],
    ['reason', 'John Smith'],
    ['reason', 'alice'],
    ['stage', 'subject_3f2a'],
    ['stage', '0.0123,-0.442,0.981'],
    ['role', 'admin'],
    ['reason', '/9j/4AAQSkZJRgABAQ=='],
  ];

  it.each(refused)('refuses %s=%j and does not echo the value', (name, value) => {
    let error: unknown;
    try {
      assertSafeLabels({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MetricLabelError);
    expect((error as MetricLabelError).code).toBe('invalid_metric_label');
    expect((error as Error).message).not.toContain(value);
  });

  it('refuses label names outside deployment, camera, stage, role and reason', () => {
    for (const name of ['subject', 'track', 'name', 'label', 'score', 'user', 'toString', '__proto__']) {
      expect(() => assertSafeLabels({ [name]: randomUUID() })).toThrow(MetricLabelError);
    }
  });

  it('accepts UUIDs for deployment and camera and vocabulary words for the rest', () => {
    expect(() =>
      assertSafeLabels({ deployment, camera, stage: 'detect', role: 'matcher', reason: 'cooldown' }),
    ).not.toThrow();
    expect(isSafeLabelValue('stage', randomUUID())).toBe(false);
    expect(isSafeLabelValue('camera', 'detect')).toBe(false);
    expect(isSafeLabelValue('camera', 42)).toBe(false);
  });

  it('lets a stage be added only as a short lower-case word', () => {
    expect(isSafeLabelValue('stage', 'upscale')).toBe(false);
    allowLabelTokens('stage', 'upscale');
    expect(isSafeLabelValue('stage', 'upscale')).toBe(true);
    expect(() => allowLabelTokens('reason', 'Jane Doe')).toThrow(MetricLabelError);
    expect(isSafeLabelValue('reason', 'Jane Doe')).toBe(false);
  });

  it('refuses a metric call whose labels are wrong without throwing, counting it and leaving nothing in the output', async () => {
    const metrics = createMetrics({ role: 'matcher', processMetrics: false });
    metrics.alerts.inc({ deployment, camera: 'Jane Doe' });
    metrics.matches.inc({ deployment, subject: randomUUID() } as never);
    metrics.matches.inc({} as never);
    const stop = metrics.stageSeconds.startTimer({ stage: 'jane' });
    expect(stop()).toBeGreaterThanOrEqual(0);
    const text = await metrics.text();
    expect(text).not.toContain('Jane');
    expect(text).not.toContain('jane');
    expect(text).not.toContain('subject');
    const samples = parsePrometheusText(text).samples;
    expect(samples.filter((s) => s.name.startsWith('vigil_matches'))).toEqual([]);
    expect(samples.find((s) => s.name === 'vigil_metric_calls_refused_total')?.value).toBe(4);
  });

  it(`refuses new series beyond ${MAX_SERIES_PER_METRIC} per metric`, async () => {
    const metrics = createMetrics({ role: 'ingest', processMetrics: false });
    for (let i = 0; i < MAX_SERIES_PER_METRIC; i++)
      metrics.cameraFps.set({ deployment, camera: randomUUID() }, 1);
    const extra = randomUUID();
    metrics.cameraFps.set({ deployment, camera: extra }, 1);
    const refused = async () =>
      parsePrometheusText(await metrics.text()).samples.find(
        (s) => s.name === 'vigil_metric_calls_refused_total',
      )?.value;
    expect(await refused()).toBe(1);
    expect(await metrics.text()).not.toContain(extra);
    metrics.forgetDeployment(deployment);
    metrics.cameraFps.set({ deployment, camera: extra }, 1);
    expect(await refused()).toBe(1);
    expect(await metrics.text()).toContain(extra);
  });
});

describe('prometheus text parser', () => {
  it('rejects malformed exposition', () => {
    expect(() => parsePrometheusText('vigil_x{a="b" 1')).toThrow();
    expect(() => parsePrometheusText('vigil x 1')).toThrow();
    expect(() => parsePrometheusText('vigil_x abc')).toThrow();
    expect(() => parsePrometheusText('# TYPE vigil_x thing')).toThrow();
    expect(parsePrometheusText('vigil_x{a="b\\"c",d="e"} 2.5\n').samples).toEqual([
      { name: 'vigil_x', labels: { a: 'b"c', d: 'e' }, value: 2.5 },
    ]);
  });
});

describe('subscription tracker', () => {
  it('samples a real bus subscription’s backlog and drops into queue depth and queue drops', async () => {
    const bus = new MemoryBus();
    const metrics = createMetrics({ role: 'detector', processMetrics: false });
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const subscription = bus.subscribe('vigil.v1.x.frames.y', () => blocked, { maxPending: 3 });
    const stop = trackSubscription(metrics, 'frames', subscription, 10);
    for (let i = 0; i < 8; i++) bus.publish('vigil.v1.x.frames.y', new Uint8Array([i]));
    await bus.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sample = async () => parsePrometheusText(await metrics.text()).samples;
    const depth = (await sample()).find((s) => s.name === 'vigil_queue_depth' && s.labels.stage === 'frames');
    const dropped = (await sample()).find((s) => s.name === 'vigil_queue_dropped_total');
    expect(depth?.value).toBe(subscription.pending);
    expect(subscription.pending).toBeGreaterThan(0);
    expect(dropped).toMatchObject({
      labels: { stage: 'frames', reason: 'queue_full' },
      value: subscription.dropped,
    });
    expect(subscription.dropped).toBeGreaterThan(0);
    release();
    stop();
    await bus.close();
    expect(() => trackSubscription(metrics, 'Jane Doe', subscription)).toThrow(MetricLabelError);
  });
});
