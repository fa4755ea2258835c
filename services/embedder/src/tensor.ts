import type { TensorNormalisation } from '@vigil/models';

/**
 * Packs `count` RGB images (interleaved 8-bit, `width` x `height` each, laid out one after another)
 * into one float32 tensor in the model's layout, channel order and normalisation.
 */
export function packTensor(
  images: readonly Uint8Array[],
  width: number,
  height: number,
  normalisation: TensorNormalisation,
): { data: Float32Array; dims: number[] } {
  const plane = width * height;
  const data = new Float32Array(images.length * plane * 3);
  const order = normalisation.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const { mean, std } = normalisation;
  for (let n = 0; n < images.length; n++) {
    const image = images[n] as Uint8Array;
    if (image.length !== plane * 3) {
      throw new RangeError(`image ${n} has ${image.length} bytes, expected ${plane * 3}`);
    }
    const base = n * plane * 3;
    for (let c = 0; c < 3; c++) {
      const source = order[c] as number;
      const m = mean[c] as number;
      const scale = 1 / (std[c] as number);
      if (normalisation.layout === 'nchw') {
        const offset = base + c * plane;
        for (let i = 0; i < plane; i++) data[offset + i] = ((image[i * 3 + source] as number) - m) * scale;
      } else {
        for (let i = 0; i < plane; i++)
          data[base + i * 3 + c] = ((image[i * 3 + source] as number) - m) * scale;
      }
    }
  }
  const dims =
    normalisation.layout === 'nchw' ? [images.length, 3, height, width] : [images.length, height, width, 3];
  return { data, dims };
}
