import { VigilError } from '@vigil/core';

/** A camera URL Vigil will not hand to ffmpeg: wrong scheme, option-like, or holding control characters. */
export class InvalidCameraUrlError extends VigilError {
  override readonly name = 'InvalidCameraUrlError';
  constructor(message: string) {
    super('invalid_camera_url', message, 400);
  }
}

/**
 * This ingest replica's camera leases are gone (`lease_expired`: not renewed in time; `closed`: the
 * role is stopping): its cameras stop until it holds their leases again.
 */
export class CameraLeaseLostError extends VigilError {
  override readonly name = 'CameraLeaseLostError';
  constructor(reason: 'lease_expired' | 'closed') {
    super('camera_lease_lost', `camera leases lost: ${reason}`, 503);
  }
}
