import { VigilError } from '@vigil/core';

/** A camera URL Vigil will not hand to ffmpeg: wrong scheme, option-like, or holding control characters. */
export class InvalidCameraUrlError extends VigilError {
  override readonly name = 'InvalidCameraUrlError';
  constructor(message: string) {
    super('invalid_camera_url', message, 400);
  }
}
