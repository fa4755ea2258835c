/**
 * What a lease store tells the ingest role: `lost` when every lease this replica held is gone (its
 * connection to the store broke, or was not renewed in time), so its cameras must stop now;
 * `changed` when the number of replicas changed, so the cameras are shared out again.
 */
export type LeaseEvent = 'lost' | 'changed';

/**
 * Leases on cameras: of several ingest replicas on one database, only the holder of a camera's
 * lease opens it (docs/decisions/010-camera-leases.md).
 */
export interface CameraLeases {
  /**
   * Live replicas sharing the cameras, this one included. The first call joins this replica to the
   * set (again after a loss); every call renews. Rejects when the store cannot be reached.
   */
  replicas(): Promise<number>;
  /** Takes a camera's lease; false when another replica holds it, true when this one already does. */
  tryAcquire(cameraId: string): Promise<boolean>;
  /** Whether this replica holds the camera's lease now. */
  holds(cameraId: string): boolean;
  /** Gives a camera's lease back; call it once the camera's ffmpeg has exited. */
  release(cameraId: string): Promise<void>;
  onEvent(listener: (event: LeaseEvent) => void): void;
  /** Gives every lease back and leaves the replica set. */
  close(): Promise<void>;
}

/**
 * The leases of the embedded database: PGlite is open in one process only (its data directory is
 * locked), so there is one ingest and it holds every camera.
 */
export class SingleProcessLeases implements CameraLeases {
  async replicas(): Promise<number> {
    return 1;
  }
  async tryAcquire(): Promise<boolean> {
    return true;
  }
  holds(): boolean {
    return true;
  }
  async release(): Promise<void> {}
  onEvent(): void {}
  async close(): Promise<void> {}
}
