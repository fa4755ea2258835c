import sharp, { type OverlayOptions, type Sharp } from 'sharp';
import { decodeImage } from '../image/image-decoder.js';
import { sharpness } from '../quality/face-quality.js';

/** [x, y, width, height] in pixels of the frame. */
export type SceneBox = readonly [number, number, number, number];

export interface SceneOptions {
  /** Faces left sharp and outlined: the matched face of an alert, the alerted tracks in a live view. */
  keep: readonly SceneBox[];
  /** Every other face found in the frame: blurred beyond recognition. */
  blur: readonly SceneBox[];
  /** Widest the scene may be; a wider frame is scaled down to it (never up). */
  maxWidth: number;
  /** JPEG quality of the result. */
  quality?: number;
}

export interface ComposedScene {
  jpeg: Buffer;
  width: number;
  height: number;
}

/** 1280 px: an alert's scene shows where the person stood and what was around them, no more. */
export const SCENE_MAX_WIDTH = 1280;
/** 640 px: a live view is a glance at a few frames a second, on a van's link. */
export const LIVE_VIEW_MAX_WIDTH = 640;
/** 80: a scene is looked at, not measured; a quarter of the bytes of quality 95. */
export const SCENE_JPEG_QUALITY = 80;
/**
 * A blurred face's region grows by this share of its box on every side: a detector's box stops at
 * the brow and chin, and hair, ears and jaw line help recognise a person too.
 */
export const BLUR_MARGIN = 0.3;
/**
 * A blurred face keeps this many blocks across (before a Gaussian smooths them): four blocks hold
 * no feature a person or a face matcher could use, only that a head was there.
 */
export const BLUR_BLOCKS = 4;
/** Outline of a kept face: red, thick enough to see on a phone at the scene's width. */
const OUTLINE_COLOUR = '#ff1f1f';

interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** `box` scaled by `scale`, grown by `margin` of its size on every side, clipped to the image. */
function regionOf(box: SceneBox, scale: number, margin: number, width: number, height: number): Region {
  const [x, y, w, h] = box;
  const left = Math.max(0, Math.floor((x - w * margin) * scale));
  const top = Math.max(0, Math.floor((y - h * margin) * scale));
  const right = Math.min(width, Math.ceil((x + w * (1 + margin)) * scale));
  const bottom = Math.min(height, Math.ceil((y + h * (1 + margin)) * scale));
  return { left, top, width: Math.max(0, right - left), height: Math.max(0, bottom - top) };
}

/** The region of `image`, pixelated to BLUR_BLOCKS across and smoothed: no face can be told from it. */
async function blurred(image: Sharp, region: Region): Promise<Buffer> {
  const across = Math.max(1, Math.min(BLUR_BLOCKS, region.width));
  const down = Math.max(1, Math.min(Math.round((BLUR_BLOCKS * region.height) / region.width), region.height));
  const blocks = await image.clone().extract(region).resize(across, down, { fit: 'fill' }).raw().toBuffer();
  const sigma = Math.max(0.3, Math.min(region.width, region.height) / 6);
  return sharp(blocks, { raw: { width: across, height: down, channels: 3 } })
    .resize(region.width, region.height, { fit: 'fill', kernel: 'cubic' })
    .blur(sigma)
    .raw()
    .toBuffer();
}

/** An SVG, the scene's size, outlining each kept face. */
function outlines(regions: readonly Region[], width: number, height: number): Buffer {
  const stroke = Math.max(2, Math.round(width / 320));
  const rects = regions
    .map(
      (r) =>
        `<rect x="${r.left}" y="${r.top}" width="${r.width}" height="${r.height}" fill="none" stroke="${OUTLINE_COLOUR}" stroke-width="${stroke}"/>`,
    )
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects}</svg>`,
  );
}

/**
 * A frame as an operator may see it: scaled down to `maxWidth`, each `blur` face (grown by
 * BLUR_MARGIN) pixelated and smoothed beyond recognition, each `keep` face left sharp (even where
 * a bystander's grown region overlaps it) and outlined in red, as a JPEG. Called only inside the
 * process that holds the raw frame, so no unblurred bystander leaves it; the decoded pixels are
 * zero-filled before it returns.
 */
export async function composeScene(frame: Uint8Array, options: SceneOptions): Promise<ComposedScene> {
  const decoded = await decodeImage(frame);
  const scale = Math.min(1, options.maxWidth / decoded.width);
  const width = Math.max(1, Math.round(decoded.width * scale));
  const height = Math.max(1, Math.round(decoded.height * scale));
  const raw = { width: decoded.width, height: decoded.height, channels: 3 as const };
  const pixels = await sharp(decoded.data, { raw }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  decoded.data.fill(0);
  const patches: Buffer[] = [];
  try {
    const image = sharp(pixels, { raw: { width, height, channels: 3 } });
    const overlays: OverlayOptions[] = [];
    const place = (input: Buffer, region: Region) => {
      patches.push(input);
      overlays.push({
        input,
        raw: { width: region.width, height: region.height, channels: 3 },
        left: region.left,
        top: region.top,
      });
    };
    for (const box of options.blur) {
      const region = regionOf(box, scale, BLUR_MARGIN, width, height);
      if (region.width > 0 && region.height > 0) place(await blurred(image, region), region);
    }
    const kept = options.keep
      .map((box) => regionOf(box, scale, 0, width, height))
      .filter((r) => r.width > 0 && r.height > 0);
    // The kept faces' own pixels go back on top: a bystander's grown region must not blur them.
    for (const region of kept) place(await image.clone().extract(region).raw().toBuffer(), region);
    if (kept.length > 0) overlays.push({ input: outlines(kept, width, height), left: 0, top: 0 });
    const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } })
      .composite(overlays)
      .jpeg({ quality: options.quality ?? SCENE_JPEG_QUALITY })
      .toBuffer();
    return { jpeg, width, height };
  } finally {
    pixels.fill(0);
    for (const patch of patches) patch.fill(0);
  }
}

/**
 * The sharpness (Laplacian variance, as the quality gate measures it) of `box` in a JPEG: how the
 * tests tell a blurred face from a sharp one.
 */
export async function regionSharpness(jpeg: Uint8Array, box: SceneBox): Promise<number> {
  const meta = await sharp(jpeg).metadata();
  const region = regionOf(box, 1, 0, meta.width ?? 0, meta.height ?? 0);
  const { data, info } = await sharp(jpeg)
    .extract(region)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharpness(data, info.width, info.height);
}
