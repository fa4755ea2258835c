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
import { decodeFrame, encodeFace } from '@vigil/proto';
import { passesGate } from '../face-quality.js';
import { FaceTracker } from './face-tracker.js';
import { type FrameAnalyser, record } from './frame-analyser.js';

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
  /** Frames waiting beyond which new ones are dropped and counted (a NATS slow consumer). */
  maxPending?: number;
  /** Called once per frame handled, for the per-deployment frame counters. */
  onFrame?: (deploymentId: string, cameraId: string) => void;
  /** Subject to subscribe to (default every deployment's frames). */
  subject?: string;
}

/** 2 s: past that an alert would reach the operator after the person has walked on. */
export const DEFAULT_MAX_FRAME_AGE_MS = 2000;
/** A few frames per camera of slack; beyond that the newest frames win. */
export const DEFAULT_DETECTOR_MAX_PENDING = 16;

export interface Worker {
  readonly subscription: BusSubscription;
  /** Stops taking messages and finishes the ones in hand. */
  stop(): Promise<void>;
}

/**
 * The detector role's handler: frames in (queue group `detector`), aligned crops of faces worth
 * embedding out. Every face is tracked per camera; a track goes on to the embedder when its first
 * usable view arrives and again only when a clearly better one does. Crops not sent are zero-filled.
 */
export function startDetectorWorker(options: DetectorWorkerOptions): Worker {
  const { bus, analyser, logger, gate, metrics } = options;
  const tracker = options.tracker ?? new FaceTracker();
  const maxAge = options.maxFrameAgeMs ?? DEFAULT_MAX_FRAME_AGE_MS;
  const [cropWidth, cropHeight] = analyser.cropSize;

  const subscription = bus.subscribe(
    options.subject ?? allSubjects('frames'),
    async (message) => {
      const frame = decodeFrame(message.data);
      const { deploymentId, cameraId } = frame;
      const labels = { deployment: deploymentId, camera: cameraId };
      if (Date.now() - frame.capturedAtMs > maxAge) {
        record(() => metrics?.framesDropped.inc({ ...labels, reason: 'stale' }));
        return;
      }
      options.onFrame?.(deploymentId, cameraId);
      let analysis: Awaited<ReturnType<FrameAnalyser['analyse']>>;
      const timer = metrics?.stageSeconds.startTimer({ stage: 'detect' });
      try {
        analysis = await analyser.analyse(frame.jpeg);
      } catch (error) {
        if (isVigilError(error)) {
          record(() => metrics?.framesDropped.inc({ ...labels, reason: 'decode_error' }));
          return;
        }
        throw error;
      } finally {
        timer?.();
      }
      const detections = analysis.faces.map(({ face }) => ({
        box: face.box,
        quality: face.quality,
        usable: passesGate(face.quality, gate),
      }));
      const decisions = tracker.update(cameraId, frame.capturedAtMs, detections);
      record(() => metrics?.facesProcessed.inc(labels, analysis.faces.length));
      const faceSubject = subject('faces', deploymentId, cameraId);
      analysis.faces.forEach(({ face, crop }, i) => {
        const decision = decisions[i];
        if (decision?.embed) {
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
          record(() => metrics?.facesSkipped.inc({ ...labels, reason: 'low_quality' }));
        }
        crop.fill(0);
      });
    },
    { queue: 'detector', maxPending: options.maxPending ?? DEFAULT_DETECTOR_MAX_PENDING },
  );
  logger.info({ subject: subscription.subject }, 'detector worker listening');
  return {
    subscription,
    async stop() {
      await subscription.drain();
    },
  };
}
