import { decodeImage } from '@vigil/face-runtime';
import sharp from 'sharp';
import { sniffImageType } from './image-type.js';

/** JPEG quality of a re-encoded reference image: visually lossless. */
const JPEG_QUALITY = 95;

/**
 * The image as Vigil stores it: decoded (the face runtime's checks: accepted formats, size, damage;
 * EXIF orientation applied, sRGB) and encoded again from its pixels alone, so no metadata survives
 * (EXIF with its GPS position, camera serial and time, XMP, IPTC, ICC, comments). PNG stays PNG
 * (lossless), WebP stays WebP, anything else becomes JPEG. The face engine analyses these bytes, so
 * what is stored is exactly what was embedded. Throws the decoder's ImageError for bad input.
 */
export async function stripImageMetadata(bytes: Uint8Array): Promise<Buffer> {
  const type = sniffImageType(bytes);
  const { data, width, height } = await decodeImage(bytes);
  try {
    const pixels = sharp(data, { raw: { width, height, channels: 3 } });
    if (type === 'image/png') return await pixels.png().toBuffer();
    if (type === 'image/webp') return await pixels.webp({ quality: JPEG_QUALITY }).toBuffer();
    return await pixels.jpeg({ quality: JPEG_QUALITY, chromaSubsampling: '4:4:4' }).toBuffer();
  } finally {
    data.fill(0);
  }
}
