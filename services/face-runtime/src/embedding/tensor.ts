import type { TensorNormalisation } from '../profiles/manifest.js';

/** How `packTensor` writes its images: into a given array, some of them mirrored. */
export interface PackOptions {
  /** Write here (at least the tensor's length) instead of a new array. */
  into?: Float32Array;
  /** Per image: pack it flipped left to right (its mirror image) instead. */
  mirrored?: readonly boolean[];
}

/**
 * Packs `count` RGB images (interleaved 8-bit, `width` x `height` each, laid out one after another)
 * into one float32 tensor in the model's layout, channel order and normalisation.
 */
export function packTensor(
  images: readonly Uint8Array[],
  width: number,
  height: number,
  normalisation: TensorNormalisation,
  { into, mirrored }: PackOptions = {},
): { data: Float32Array; dims: number[] } {
  const plane = width * height;
  const length = images.length * plane * 3;
  if (into && into.length < length) throw new RangeError(`tensor needs ${length} values, got ${into.length}`);
  const data = into ? into.subarray(0, length) : new Float32Array(length);
  // One pass over each image's pixels, all three channels at once (several times faster in V8 than a
  // pass per channel); the same values as (p - mean) / std.
  const [s0, s1, s2] = (normalisation.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2]) as [number, number, number];
  const [m0, m1, m2] = normalisation.mean as [number, number, number];
  const [k0, k1, k2] = normalisation.std.map((std) => 1 / std) as [number, number, number];
  const nchw = normalisation.layout === 'nchw';
  for (let n = 0; n < images.length; n++) {
    const image = images[n] as Uint8Array;
    if (image.length !== plane * 3) {
      throw new RangeError(`image ${n} has ${image.length} bytes, expected ${plane * 3}`);
    }
    const base = n * plane * 3;
    // Mirrored: output pixel x of each row reads source pixel width - 1 - x.
    const flip = mirrored?.[n] === true;
    if (flip) {
      // Output value offsets: nchw, one plane a channel; nhwc, three values a pixel.
      const step = nchw ? plane : 1;
      const stride = nchw ? 1 : 3;
      for (let y = 0, o = base; y < height; y++) {
        for (let x = width - 1; x >= 0; x--, o += stride) {
          const j = (y * width + x) * 3;
          data[o] = ((image[j + s0] as number) - m0) * k0;
          data[o + step] = ((image[j + s1] as number) - m1) * k1;
          data[o + 2 * step] = ((image[j + s2] as number) - m2) * k2;
        }
      }
    } else if (nchw) {
      const o1 = base + plane;
      const o2 = base + 2 * plane;
      for (let i = 0, j = 0; i < plane; i++, j += 3) {
        data[base + i] = ((image[j + s0] as number) - m0) * k0;
        data[o1 + i] = ((image[j + s1] as number) - m1) * k1;
        data[o2 + i] = ((image[j + s2] as number) - m2) * k2;
      }
    } else {
      for (let j = 0; j < plane * 3; j += 3) {
        data[base + j] = ((image[j + s0] as number) - m0) * k0;
        data[base + j + 1] = ((image[j + s1] as number) - m1) * k1;
        data[base + j + 2] = ((image[j + s2] as number) - m2) * k2;
      }
    }
  }
  const dims = nchw ? [images.length, 3, height, width] : [images.length, height, width, 3];
  return { data, dims };
}
