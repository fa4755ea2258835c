import { randomUUID } from 'node:crypto';
import { type FaceQuality, viewQuality } from '@vigil/core';

type Box = readonly [x: number, y: number, width: number, height: number];

export interface TrackerOptions {
  /** Overlap from which a detection continues a track. */
  minIoU?: number;
  /** A track not seen for this long is over: the person left (or turned away for good). */
  maxAgeMs?: number;
  /** A new view is embedded again only when its quality beats the best sent so far by this factor. */
  improvement?: number;
}

/**
 * 0.3 IoU: at 5-10 fps a walking face moves well under half its width between frames; the centroid
 * rule below catches the faster ones.
 */
export const DEFAULT_MIN_IOU = 0.3;
/** 1.5 s: a face lost for a few frames (a passer-by in front) keeps its track and its alert. */
export const DEFAULT_MAX_AGE_MS = 1500;
/** However slow the detector, a track unseen for 10 s is over. */
export const MAX_ADAPTIVE_AGE_MS = 10_000;
/** 15 % better: small jitter in the measures does not re-embed the same face every frame. */
export const DEFAULT_IMPROVEMENT = 1.15;

export interface TrackDecision {
  trackId: string;
  /** True for the first usable view of a track and for views better than the best one sent. */
  embed: boolean;
  /** The view's quality score (see {@link viewQuality}). */
  quality: number;
}

interface Track {
  id: string;
  box: Box;
  lastSeenMs: number;
  /** Best quality score sent to the embedder; 0 until one view passed the gate. */
  bestSent: number;
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a[0], b[0]);
  const y1 = Math.max(a[1], b[1]);
  const x2 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y2 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/** Centre within 60 % of the track's size and a similar size: the same face, moved fast. */
function nearby(track: Box, box: Box): boolean {
  const dx = track[0] + track[2] / 2 - (box[0] + box[2] / 2);
  const dy = track[1] + track[3] / 2 - (box[1] + box[3] / 2);
  const scale = Math.max(track[2], track[3]);
  const ratio = (box[2] * box[3]) / Math.max(1, track[2] * track[3]);
  return Math.hypot(dx, dy) < 0.6 * scale && ratio > 0.5 && ratio < 2;
}

/**
 * Per-camera face tracking by overlap (SORT without the Kalman filter): one person walking past
 * keeps one track id, so the matcher sees a few good views of them instead of every frame.
 */
export class FaceTracker {
  readonly #cameras = new Map<string, Track[]>();
  readonly #lastUpdate = new Map<string, number>();
  readonly #minIoU: number;
  readonly #maxAgeMs: number;
  readonly #improvement: number;

  constructor(options: TrackerOptions = {}) {
    this.#minIoU = options.minIoU ?? DEFAULT_MIN_IOU;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#improvement = options.improvement ?? DEFAULT_IMPROVEMENT;
  }

  /**
   * Assigns each detection of one frame to a track and says which views to embed. `usable[i]`
   * says whether detection i passed the quality gate: a face that fails it keeps its track
   * position but is not embedded.
   */
  update(
    cameraId: string,
    atMs: number,
    detections: readonly { box: Box; quality: FaceQuality; usable: boolean }[],
  ): TrackDecision[] {
    // A detector that falls behind sees a camera's frames further apart: tracks then live for at
    // least 2.5 of those gaps, so a slow detector does not split one person into several tracks.
    const gap = atMs - (this.#lastUpdate.get(cameraId) ?? atMs);
    this.#lastUpdate.set(cameraId, Math.max(atMs, this.#lastUpdate.get(cameraId) ?? atMs));
    const maxAge = Math.max(this.#maxAgeMs, Math.min(2.5 * gap, MAX_ADAPTIVE_AGE_MS));
    const tracks = (this.#cameras.get(cameraId) ?? []).filter((t) => atMs - t.lastSeenMs <= maxAge);
    const pairs: { t: number; d: number; overlap: number }[] = [];
    tracks.forEach((track, t) => {
      detections.forEach((det, d) => {
        const overlap = iou(track.box, det.box);
        if (overlap >= this.#minIoU) pairs.push({ t, d, overlap });
        else if (nearby(track.box, det.box)) pairs.push({ t, d, overlap: overlap / 2 });
      });
    });
    pairs.sort((a, b) => b.overlap - a.overlap);
    const trackOf = new Array<Track | undefined>(detections.length);
    const taken = new Set<number>();
    for (const { t, d } of pairs) {
      if (taken.has(t) || trackOf[d]) continue;
      taken.add(t);
      trackOf[d] = tracks[t];
    }
    const decisions = detections.map((det, d) => {
      let track = trackOf[d];
      if (!track) {
        track = { id: randomUUID(), box: det.box, lastSeenMs: atMs, bestSent: 0 };
        tracks.push(track);
      }
      track.box = det.box;
      track.lastSeenMs = atMs;
      const quality = viewQuality(det.quality);
      const embed =
        det.usable && quality > 0 && (track.bestSent === 0 || quality >= track.bestSent * this.#improvement);
      if (embed) track.bestSent = quality;
      return { trackId: track.id, embed, quality };
    });
    if (tracks.length > 0) this.#cameras.set(cameraId, tracks);
    else {
      this.#cameras.delete(cameraId);
      this.#lastUpdate.delete(cameraId);
    }
    return decisions;
  }

  /** Tracks alive on a camera (tests, metrics). */
  activeTracks(cameraId: string): number {
    return this.#cameras.get(cameraId)?.length ?? 0;
  }

  /** Forgets a camera's tracks (its deployment stopped). */
  forget(cameraId: string): void {
    this.#cameras.delete(cameraId);
    this.#lastUpdate.delete(cameraId);
  }
}
