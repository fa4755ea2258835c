import { type FaceQuality, viewQuality } from '@vigil/core';

/**
 * A track with no new view for this long is over. The detector ends a track 1.5 s after its last
 * sighting (longer when it runs slower than its camera), and only sends a view on when it beats the
 * best sent so far, so a track's views reach the matcher seconds apart at most.
 */
export const DEFAULT_TRACK_IDLE_MS = 5000;

/** Tracks fused at once, all cameras together; the least recently seen makes way for a new one. */
export const DEFAULT_MAX_TRACKS = 4096;

/** Weight of a view whose quality is unknown or measures 0: it still counts, a little. */
const MIN_VIEW_WEIGHT = 0.05;

interface FusedTrack {
  /** Quality-weighted sum of the track's unit vectors. */
  sum: Float32Array;
  /** The views added (frame sequence numbers): a redelivered message adds nothing. */
  seen: Set<string>;
  lastSeenMs: number;
}

export interface FusedView {
  /** The unit-length quality-weighted mean of the track's views so far: a new array, the caller's to zero. */
  vector: Float32Array;
  /** Views fused, this one included. */
  views: number;
}

/** The weight a view gets in its track's mean: `viewQuality` (confidence, size, sharpness, pose). */
export function viewWeight(quality: FaceQuality | undefined): number {
  if (!quality) return MIN_VIEW_WEIGHT;
  const weight = viewQuality(quality);
  return Number.isFinite(weight) ? Math.max(MIN_VIEW_WEIGHT, weight) : MIN_VIEW_WEIGHT;
}

/**
 * Decisions per person, not per frame: the views of one track (one person walking past one camera)
 * are fused into a quality-weighted mean embedding, and the matcher searches with that. A blurred,
 * turned or distant first view no longer decides alone, and a better view adds to what was seen.
 *
 * Privacy: a track's state is one running sum in memory, never stored, logged or sent; it is
 * zero-filled when the track has been idle for `idleMs`, when its deployment stops, and when it makes
 * way for a newer track (counted by the caller through `onEvicted`).
 */
export class TrackFusion {
  readonly #tracks = new Map<string, FusedTrack>();
  readonly #idleMs: number;
  readonly #maxTracks: number;
  readonly #onEvicted: () => void;

  constructor(options: { idleMs?: number; maxTracks?: number; onEvicted?: () => void } = {}) {
    this.#idleMs = options.idleMs ?? DEFAULT_TRACK_IDLE_MS;
    this.#maxTracks = options.maxTracks ?? DEFAULT_MAX_TRACKS;
    this.#onEvicted = options.onEvicted ?? (() => {});
  }

  /** Tracks held now. */
  get size(): number {
    return this.#tracks.size;
  }

  /**
   * Adds one view of `key`'s track and returns the track's fused vector. `viewId` names the view (its
   * frame): a view added before (a redelivered message) is not counted twice.
   */
  add(key: string, viewId: string, vector: ArrayLike<number>, weight: number, nowMs: number): FusedView {
    this.sweep(nowMs);
    let track = this.#tracks.get(key);
    if (track && track.sum.length !== vector.length) {
      this.#forget(key, track);
      track = undefined;
    }
    if (track) {
      this.#tracks.delete(key); // re-inserted below: the map stays in order of last sighting
    } else {
      if (this.#tracks.size >= this.#maxTracks) this.#evictOldest();
      track = { sum: new Float32Array(vector.length), seen: new Set(), lastSeenMs: nowMs };
    }
    if (!track.seen.has(viewId)) {
      for (let i = 0; i < vector.length; i++) (track.sum[i] as number) += weight * (vector[i] as number);
      track.seen.add(viewId);
    }
    track.lastSeenMs = nowMs;
    this.#tracks.set(key, track);
    return { vector: unit(track.sum), views: track.seen.size };
  }

  /** Forgets tracks idle for longer than `idleMs`. */
  sweep(nowMs: number): void {
    for (const [key, track] of this.#tracks) {
      if (nowMs - track.lastSeenMs <= this.#idleMs) break; // in order of last sighting: the rest are newer
      this.#forget(key, track);
    }
  }

  /** Forgets every track whose key starts with `prefix` (a deployment that stopped). */
  forgetPrefix(prefix: string): void {
    for (const [key, track] of this.#tracks) if (key.startsWith(prefix)) this.#forget(key, track);
  }

  /** Forgets everything (shutdown). */
  clear(): void {
    for (const [key, track] of this.#tracks) this.#forget(key, track);
  }

  #evictOldest(): void {
    const oldest = this.#tracks.entries().next();
    if (oldest.done) return;
    this.#forget(oldest.value[0], oldest.value[1]);
    this.#onEvicted();
  }

  #forget(key: string, track: FusedTrack): void {
    track.sum.fill(0);
    track.seen.clear();
    this.#tracks.delete(key);
  }
}

/** `v` scaled to unit length, in a new array. */
function unit(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / norm;
  return out;
}
