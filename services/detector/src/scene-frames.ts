import type { SceneBox } from '@vigil/face-runtime';

/** One face of a held frame: where it is, and its track. */
export interface HeldFace {
  box: SceneBox;
  trackId: string;
}

interface HeldFrame {
  sequence: number;
  capturedAtMs: number;
  heldAtMs: number;
  jpeg: Uint8Array;
  faces: HeldFace[];
}

/**
 * 10 s: detector, embedder and matcher take well under a second a face, and an alert's scene is
 * asked for as soon as its row is committed; a frame still unasked for after that never will be.
 */
export const SCENE_HOLD_MS = 10_000;
/** Frames held per camera at most: at 10 fps with a face in each, the last second or so. */
export const SCENE_FRAMES_PER_CAMERA = 16;

/**
 * The detector's short memory of frames whose faces went on to the embedder, kept only in this
 * process, so the matcher can ask for the scene of a frame that became an alert. A frame leaves
 * (its bytes zero-filled) after SCENE_HOLD_MS or when SCENE_FRAMES_PER_CAMERA newer ones came
 * (a frame asked for stays: two people on the list may alert in one frame). Nothing here is ever
 * written or published raw.
 */
export class SceneFrames {
  readonly #cameras = new Map<string, HeldFrame[]>();

  constructor(
    private readonly holdMs = SCENE_HOLD_MS,
    private readonly perCamera = SCENE_FRAMES_PER_CAMERA,
  ) {}

  /** Holds a copy of `jpeg` with its faces. */
  hold(
    camera: string,
    frame: { sequence: number; capturedAtMs: number; jpeg: Uint8Array },
    faces: HeldFace[],
    now = Date.now(),
  ): void {
    this.expire(now);
    const held = this.#cameras.get(camera) ?? [];
    held.push({
      sequence: frame.sequence,
      capturedAtMs: frame.capturedAtMs,
      heldAtMs: now,
      jpeg: Uint8Array.from(frame.jpeg),
      faces,
    });
    while (held.length > this.perCamera) held.shift()?.jpeg.fill(0);
    this.#cameras.set(camera, held);
  }

  /** The held frame, or undefined when this detector does not hold it. */
  find(
    camera: string,
    sequence: number,
    capturedAtMs: number,
    now = Date.now(),
  ): { jpeg: Uint8Array; faces: HeldFace[] } | undefined {
    this.expire(now);
    return this.#cameras.get(camera)?.find((f) => f.sequence === sequence && f.capturedAtMs === capturedAtMs);
  }

  /** Frames held now, over every camera. */
  get size(): number {
    let n = 0;
    for (const held of this.#cameras.values()) n += held.length;
    return n;
  }

  /** Lets go of every frame held longer than the hold time, zero-filled. */
  expire(now = Date.now()): void {
    for (const [camera, held] of this.#cameras) {
      while (held.length > 0 && now - (held[0] as HeldFrame).heldAtMs > this.holdMs)
        held.shift()?.jpeg.fill(0);
      if (held.length === 0) this.#cameras.delete(camera);
    }
  }

  /** Lets go of everything, zero-filled. */
  clear(): void {
    for (const held of this.#cameras.values()) for (const frame of held) frame.jpeg.fill(0);
    this.#cameras.clear();
  }
}
