import { allSubjects, type Bus, type BusSubscription, type Logger, parseSubject, subject } from '@vigil/core';
import { composeScene, LIVE_VIEW_MAX_WIDTH, type SceneBox } from '@vigil/face-runtime';
import { encodeSceneImage } from '@vigil/proto';

/**
 * 5 s: the API repeats a camera's `watch` notice every 2 s while someone watches it; a lost notice
 * does not blank the view, and frames stop within seconds of the last watcher leaving.
 */
export const LIVE_DEMAND_MS = 5000;
/** 2 fps: enough to see the scene move, a small load on the detector and the van's link. */
export const LIVE_VIEW_INTERVAL_MS = 500;
/**
 * 60 s: a track that alerted stays unblurred this long after it was last seen; the tracker gives a
 * face lost for more than a few seconds a new track anyway.
 */
export const ALERTED_TRACK_MS = 60_000;
/** 70: a live frame is a glance, and a quarter smaller than at 80. */
const LIVE_VIEW_JPEG_QUALITY = 70;

/**
 * The detector's part of the live view: while an operator watches a camera (the API's `watch`
 * notices, on every detector), a few of its frames a second go out on the camera's `liveview`
 * subject (core NATS, never retained), composed here, where the raw frame is: every face blurred
 * except those of tracks that alerted. Nothing is composed for a camera nobody watches.
 */
export class LiveView {
  /** `deployment/camera` → until when someone watches it. */
  readonly #demand = new Map<string, number>();
  /** `deployment/camera/track` → until when the track counts as alerted. */
  readonly #alerted = new Map<string, number>();
  /** `deployment/camera` → when its last live frame went out. */
  readonly #sentAt = new Map<string, number>();
  readonly #composing = new Set<string>();
  #subscription: BusSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {}

  /** Starts hearing the API's `watch` notices. */
  start(): void {
    this.#subscription = this.bus.subscribe(
      allSubjects('watch'),
      (message) => {
        const parsed = parseSubject(message.subject);
        if (parsed?.kind === 'watch')
          this.#demand.set(`${parsed.deploymentId}/${parsed.cameraId}`, Date.now() + LIVE_DEMAND_MS);
      },
      { maxPending: 256 },
    );
  }

  /** A track whose face matched someone on the list: its face is shown unblurred from now on. */
  alerted(deploymentId: string, cameraId: string, trackId: string): void {
    this.#alerted.set(`${deploymentId}/${cameraId}/${trackId}`, Date.now() + ALERTED_TRACK_MS);
  }

  /**
   * A detected frame: sent on (composed, in the background) when its camera is watched and its
   * last live frame is LIVE_VIEW_INTERVAL_MS old; a camera's frames are composed one at a time.
   */
  offer(
    frame: { deploymentId: string; cameraId: string; capturedAtMs: number; jpeg: Uint8Array },
    faces: readonly { box: SceneBox; trackId: string }[],
  ): void {
    const now = Date.now();
    const key = `${frame.deploymentId}/${frame.cameraId}`;
    const until = this.#demand.get(key);
    if (until === undefined) return;
    if (until < now) {
      this.#demand.delete(key);
      this.#sentAt.delete(key);
      return;
    }
    if (this.#composing.has(key) || now - (this.#sentAt.get(key) ?? 0) < LIVE_VIEW_INTERVAL_MS) return;
    this.#sentAt.set(key, now);
    this.#composing.add(key);
    const keep: SceneBox[] = [];
    const blur: SceneBox[] = [];
    for (const face of faces) {
      const alertedUntil = this.#alerted.get(`${key}/${face.trackId}`);
      if (alertedUntil !== undefined && alertedUntil >= now) {
        keep.push(face.box);
        this.#alerted.set(`${key}/${face.trackId}`, now + ALERTED_TRACK_MS);
      } else blur.push(face.box);
    }
    this.#forgetOldTracks(now);
    const jpeg = Uint8Array.from(frame.jpeg);
    composeScene(jpeg, { keep, blur, maxWidth: LIVE_VIEW_MAX_WIDTH, quality: LIVE_VIEW_JPEG_QUALITY })
      .then((scene) => {
        this.bus.publish(
          subject('liveview', frame.deploymentId, frame.cameraId),
          encodeSceneImage({ ...scene, capturedAtMs: frame.capturedAtMs }),
        );
        scene.jpeg.fill(0);
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, camera: frame.cameraId }, 'live view frame could not be composed'),
      )
      .finally(() => {
        jpeg.fill(0);
        this.#composing.delete(key);
      });
  }

  #forgetOldTracks(now: number): void {
    for (const [track, until] of this.#alerted) if (until < now) this.#alerted.delete(track);
  }

  /** Stops hearing notices and forgets every camera and track. */
  stop(): void {
    this.#subscription?.unsubscribe();
    this.#demand.clear();
    this.#alerted.clear();
    this.#sentAt.clear();
  }
}
