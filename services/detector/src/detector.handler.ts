import {
  allSubjects,
  type Bus,
  type BusSubscription,
  isVigilError,
  type Logger,
  type QualityGate,
  subject,
  type VigilMetrics,
} from '@vigil/core';
import { type FrameAnalyser, type FrameAnalysis, passesGate } from '@vigil/face-runtime';
import { decodeFrame, encodeFace, encodeStageCounters, type Frame } from '@vigil/proto';
import { FaceTracker } from './face-tracker.js';
import { LiveView } from './live-view.js';
import { SceneFrames } from './scene-frames.js';
import { startSceneResponder } from './scene-responder.js';

export interface DetectorWorkerOptions {
  bus: Bus;
  analyser: FrameAnalyser;
  logger: Logger;
  /** Quality a face must pass to be embedded (LIVE_GATE). */
  gate: QualityGate;
  tracker?: FaceTracker;
  metrics?: VigilMetrics;
  /**
   * A frame older than this when its turn comes is skipped (and counted): a detector that fell
   * behind catches up with the live scene instead of alerting late.
   */
  maxFrameAgeMs?: number;
  /** Messages waiting for the (instant) handler beyond which new ones are dropped and counted. */
  maxPending?: number;
  /** Called once per frame handled, for the per-deployment frame counters. */
  onFrame?: (deploymentId: string, cameraId: string) => void;
  /** Subject to subscribe to (default every deployment's frames). */
  subject?: string;
  /** How often each camera's analysed and dropped frames go out on its `counters` subject. */
  countersIntervalMs?: number;
  /** Frames held for alerts' scenes (default a new SceneFrames). */
  sceneFrames?: SceneFrames;
}

/**
 * 1 s: the camera status (CameraStatusTracker) averages these over seconds, so a dead detector shows
 * within a few seconds, for one small message a camera a second.
 */
export const DEFAULT_COUNTERS_INTERVAL_MS = 1000;

/** 2 s: past that an alert would reach the operator after the person has walked on. */
export const DEFAULT_MAX_FRAME_AGE_MS = 2000;
/**
 * Frames waiting in the subscription itself; the handler only files each as its camera's newest,
 * so this fills only if the event loop stalls.
 */
export const DEFAULT_DETECTOR_MAX_PENDING = 256;

export interface Worker {
  readonly subscription: BusSubscription;
  /** Stops taking messages and finishes the ones in hand. */
  stop(): Promise<void>;
}

/**
 * The detector role's handler: frames in (queue group `detector`), aligned crops of faces worth
 * embedding out. Every face is tracked per camera; a track goes on to the embedder when its first
 * usable view arrives and again only when a clearly better one does. Crops not sent are zero-filled.
 * Cameras are served round robin, each with its newest frame: frames superseded while waiting are
 * dropped and counted, so a detector slower than the cameras works on the present, not a backlog.
 */
export function startDetectorWorker(options: DetectorWorkerOptions): Worker {
  const { bus, analyser, logger, gate, metrics } = options;
  const tracker = options.tracker ?? new FaceTracker();
  const sceneFrames = options.sceneFrames ?? new SceneFrames();
  const liveView = new LiveView(bus, logger);
  liveView.start();
  const maxAge = options.maxFrameAgeMs ?? DEFAULT_MAX_FRAME_AGE_MS;
  const [cropWidth, cropHeight] = analyser.cropSize;

  /** The newest waiting frame of each camera, in the order cameras started waiting. */
  const latest = new Map<string, Frame>();
  let running = false;
  const idle: (() => void)[] = [];

  /** Per camera, what happened since the last `counters` report. */
  const counts = new Map<
    string,
    { deploymentId: string; cameraId: string; processed: number; dropped: number; faces: number }
  >();
  const count = (frame: { deploymentId: string; cameraId: string }) => {
    const key = `${frame.deploymentId}/${frame.cameraId}`;
    let entry = counts.get(key);
    if (!entry) {
      entry = {
        deploymentId: frame.deploymentId,
        cameraId: frame.cameraId,
        processed: 0,
        dropped: 0,
        faces: 0,
      };
      counts.set(key, entry);
    }
    return entry;
  };
  let reportedAt = Date.now();
  /**
   * Publishes each camera's counts since the last report (StageCounters, stage `detector`): how the
   * camera status tells frames read from frames analysed. A camera with nothing to report gets one
   * report of zeros, then none until it has frames again.
   */
  const report = () => {
    const now = Date.now();
    const windowMs = now - reportedAt;
    reportedAt = now;
    for (const [key, entry] of counts) {
      const { deploymentId, cameraId, processed, dropped, faces } = entry;
      if (processed === 0 && dropped === 0 && faces === 0) counts.delete(key);
      else Object.assign(entry, { processed: 0, dropped: 0, faces: 0 });
      try {
        bus.publish(
          subject('counters', deploymentId, cameraId),
          encodeStageCounters({
            deploymentId,
            cameraId,
            stage: 'detector',
            processed,
            dropped,
            faces,
            windowMs,
          }),
        );
      } catch (error) {
        logger.warn({ err: error, camera: cameraId }, 'detector counters publish failed');
      }
    }
  };
  const reporter = setInterval(report, options.countersIntervalMs ?? DEFAULT_COUNTERS_INTERVAL_MS);
  reporter.unref();

  const detect = async (frame: Frame): Promise<void> => {
    const { deploymentId, cameraId } = frame;
    const labels = { deployment: deploymentId, camera: cameraId };
    if (Date.now() - frame.capturedAtMs > maxAge) {
      count(frame).dropped++;
      metrics?.framesDropped.inc({ ...labels, reason: 'stale' });
      return;
    }
    options.onFrame?.(deploymentId, cameraId);
    let analysis: FrameAnalysis;
    const timer = metrics?.stageSeconds.startTimer({ stage: 'detect' });
    try {
      analysis = await analyser.analyse(frame.jpeg);
    } catch (error) {
      if (isVigilError(error)) {
        count(frame).dropped++;
        metrics?.framesDropped.inc({ ...labels, reason: 'decode_error' });
        return;
      }
      throw error;
    } finally {
      timer?.();
    }
    const { inferenceSeconds } = analysis;
    if (inferenceSeconds !== undefined) metrics?.modelSeconds.observe({ stage: 'detect' }, inferenceSeconds);
    const detections = analysis.faces.map(({ face }) => ({
      box: face.box,
      quality: face.quality,
      usable: passesGate(face.quality, gate),
    }));
    const decisions = tracker.update(cameraId, frame.capturedAtMs, detections);
    metrics?.facesProcessed.inc(labels, analysis.faces.length);
    const counted = count(frame);
    counted.processed++;
    const faceSubject = subject('faces', deploymentId, cameraId);
    const boxes = analysis.faces.map(({ face }, i) => ({
      box: face.box,
      trackId: decisions[i]?.trackId ?? '',
    }));
    // Only a frame with a face on its way to the matcher can become an alert, and so a scene.
    if (decisions.some((decision) => decision?.embed))
      sceneFrames.hold(`${deploymentId}/${cameraId}`, frame, boxes);
    liveView.offer(frame, boxes);
    analysis.faces.forEach(({ face, crop }, i) => {
      const decision = decisions[i];
      if (decision?.embed) {
        counted.faces++;
        bus.publish(
          faceSubject,
          encodeFace({
            frame: { deploymentId, cameraId, sequence: frame.sequence, capturedAtMs: frame.capturedAtMs },
            trackId: decision.trackId,
            box: { x: face.box[0], y: face.box[1], width: face.box[2], height: face.box[3] },
            quality: face.quality,
            qualityScore: decision.quality,
            crop,
            cropWidth,
            cropHeight,
          }),
        );
      } else if (!detections[i]?.usable) {
        metrics?.facesSkipped.inc({ ...labels, reason: 'low_quality' });
      }
      crop.fill(0);
    });
  };

  /** Detects one camera's newest frame after another, round robin, until none waits. */
  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const next = latest.entries().next();
        if (next.done) break;
        const [key, frame] = next.value;
        latest.delete(key);
        try {
          await detect(frame);
        } catch (error) {
          logger.error({ err: error, camera: frame.cameraId }, 'frame detection failed');
        }
      }
    } finally {
      running = false;
      for (const resolve of idle.splice(0)) resolve();
    }
  };

  const subscription = bus.subscribe(
    options.subject ?? allSubjects('frames'),
    (message) => {
      // Live video wants the newest frame, not the oldest: a frame still waiting when its camera's
      // next one arrives is replaced (and counted), so a slow detector works on the present.
      let frame: Frame;
      try {
        frame = decodeFrame(message.data);
      } catch {
        // Not a frame: dropped and counted here, not thrown into the bus where nothing counts it.
        metrics?.queueDropped.inc({ stage: 'frames', reason: 'decode_error' });
        return;
      }
      const key = `${frame.deploymentId}/${frame.cameraId}`;
      if (latest.has(key)) {
        count(frame).dropped++;
        metrics?.framesDropped.inc({
          deployment: frame.deploymentId,
          camera: frame.cameraId,
          reason: 'stale',
        });
      }
      latest.set(key, frame);
      void pump();
    },
    { queue: 'detector', maxPending: options.maxPending ?? DEFAULT_DETECTOR_MAX_PENDING },
  );
  logger.info({ subject: subscription.subject }, 'detector worker listening');
  const scenes = startSceneResponder({
    bus,
    frames: sceneFrames,
    logger,
    onAlerted: (deploymentId, cameraId, trackId) => liveView.alerted(deploymentId, cameraId, trackId),
  });
  return {
    subscription,
    async stop() {
      await subscription.drain();
      if (running || latest.size > 0) await new Promise<void>((resolve) => idle.push(resolve));
      await scenes.drain();
      sceneFrames.clear();
      liveView.stop();
      clearInterval(reporter);
      report();
    },
  };
}
