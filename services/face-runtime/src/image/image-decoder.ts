import { ImageError } from '@vigil/core';
import sharp from 'sharp';

/** An image decoded to interleaved 8-bit RGB, EXIF orientation applied. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Largest image Vigil decodes: 40 megapixels holds any camera frame or phone photo (a 48 MP phone
 * shot is binned to 12 MP by default) while one decode stays under ~120 MB of RGB.
 */
export const MAX_INPUT_PIXELS = 40_000_000;

/** Formats whose headers sharp recognises and Vigil accepts. */
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif', 'avif', 'raw']);

// libvips' operation cache would keep decoded frames (faces of passers-by) in memory after use.
sharp.cache(false);

/**
 * Decodes image bytes (JPEG, PNG, WebP, TIFF, ...) to 8-bit sRGB with the EXIF orientation applied.
 * CMYK, grey, 16-bit and alpha images are converted. Throws `ImageError('unsupported_image')` for
 * empty, truncated or non-image input and `ImageError('image_too_large')` above `maxPixels`.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: { maxPixels?: number } = {},
): Promise<RgbImage> {
  const maxPixels = options.maxPixels ?? MAX_INPUT_PIXELS;
  if (bytes.length === 0) throw new ImageError('unsupported_image', 'the image is empty');
  let format: string | undefined;
  let width = 0;
  let height = 0;
  try {
    // Header only: rejects bombs before a single pixel is decoded.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    format = meta.format;
    width = meta.width ?? 0;
    height = meta.height ?? 0;
  } catch (error) {
    throw new ImageError('unsupported_image', 'the file is not an image Vigil can read', {
      cause: error,
    });
  }
  if (!format || !ACCEPTED_FORMATS.has(format) || width <= 0 || height <= 0) {
    throw new ImageError('unsupported_image', `unsupported image format ${format ?? 'unknown'}`);
  }
  if (width * height > maxPixels) {
    throw new ImageError(
      'image_too_large',
      `the image is ${width}x${height}; at most ${maxPixels} pixels are accepted`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) {
      throw new Error(`decoded to ${info.channels} channels`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
    };
  } catch (error) {
    const message = (error as Error).message ?? '';
    if (/pixel limit/i.test(message)) {
      throw new ImageError('image_too_large', `at most ${maxPixels} pixels are accepted`, { cause: error });
    }
    throw new ImageError('unsupported_image', 'the image is damaged or truncated', { cause: error });
  }
}
