/**
 * Every expected failure in Vigil is a VigilError with a stable snake_case `code` (the contract's
 * `{"error":{"code","message"}}`) and the HTTP status the API maps it to.
 */
export class VigilError extends Error {
  override readonly name: string = 'VigilError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ConfigError extends VigilError {
  override readonly name = 'ConfigError';
  constructor(message: string) {
    super('invalid_config', message, 500);
  }
}

export class NotFoundError extends VigilError {
  override readonly name = 'NotFoundError';
  constructor(what: string) {
    super('not_found', `${what} not found`, 404);
  }
}

export class ValidationError extends VigilError {
  override readonly name = 'ValidationError';
  constructor(message: string, code = 'invalid_request') {
    super(code, message, 400);
  }
}

export class ConflictError extends VigilError {
  override readonly name = 'ConflictError';
  constructor(message: string, code = 'conflict') {
    super(code, message, 409);
  }
}

export class UnauthorizedError extends VigilError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'authentication required', code = 'unauthorized') {
    super(code, message, 401);
  }
}

export class ForbiddenError extends VigilError {
  override readonly name = 'ForbiddenError';
  constructor(message = 'this role may not do that', code = 'forbidden') {
    super(code, message, 403);
  }
}

/** An image that cannot be used: the code is one of the contract's 422 enrolment codes. */
export class ImageError extends VigilError {
  override readonly name = 'ImageError';
  constructor(
    code:
      | 'no_face'
      | 'multiple_faces'
      | 'face_too_small'
      | 'low_quality'
      | 'unsupported_image'
      | 'image_too_large'
      | 'duplicate_image',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, code === 'duplicate_image' ? 409 : 422, options);
  }
}

export function isVigilError(error: unknown): error is VigilError {
  return error instanceof VigilError;
}
