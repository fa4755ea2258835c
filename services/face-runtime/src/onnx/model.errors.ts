import { VigilError } from '@vigil/core';

/** A model file that is missing, unreadable, or not what its manifest says. */
export class ModelError extends VigilError {
  override readonly name = 'ModelError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('model_unavailable', message, 503, options);
  }
}
