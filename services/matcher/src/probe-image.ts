import sharp from 'sharp';

/** 90: the probe is what an operator compares with the reference photo; it is small anyway. */
export const PROBE_JPEG_QUALITY = 90;

/** Encodes an aligned RGB face crop as the JPEG an alert carries (only ever for a match). */
export async function encodeProbeJpeg(crop: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(crop, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: PROBE_JPEG_QUALITY })
    .toBuffer();
}
