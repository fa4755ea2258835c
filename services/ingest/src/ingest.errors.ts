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

/**
 * A camera Vigil will not connect to: its host does not resolve (`camera_host_unresolved`) or is
 * off the networks an admin allowed (`camera_network_not_allowed`, VIGIL_CAMERA_NETWORKS).
 */
export class CameraNetworkError extends VigilError {
  override readonly name = 'CameraNetworkError';
  constructor(code: 'camera_host_unresolved' | 'camera_network_not_allowed', message: string) {
    super(code, message, 400);
  }
}
