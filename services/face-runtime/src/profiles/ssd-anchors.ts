/**
 * The prior boxes of face-api's SSD-MobileNetV1, as the TensorFlow Object Detection API's
 * `ssd_anchor_generator` made them for training (min_scale 0.2, max_scale 0.95, six layers, aspect
 * ratios 1, 2, 1/2, 3, 1/3 plus one interpolated scale, three boxes in the lowest layer). Sizes are
 * pixels of the 512x512 training input; on any other input the same pixel sizes sit on each feature
 * map's grid, so the detector can take a 512x288 frame instead of a 512x512 letterbox of it.
 */

/** Input side the anchor sizes are measured against. */
export const SSD_TRAINING_SIDE = 512;
/** Stride of each of the six feature maps the box predictors read. */
export const SSD_STRIDES = [16, 32, 64, 128, 256, 512];

const MIN_SCALE = 0.2;
const MAX_SCALE = 0.95;

/** [width, height] in pixels of each anchor of one cell, per feature map, in prediction order. */
export function ssdAnchorSizes(): [number, number][][] {
  const layers = SSD_STRIDES.length;
  const scale = (k: number) => (k >= layers ? 1 : MIN_SCALE + ((MAX_SCALE - MIN_SCALE) * k) / (layers - 1));
  const box = (s: number, ratio: number): [number, number] => [
    s * Math.sqrt(ratio) * SSD_TRAINING_SIDE,
    (s / Math.sqrt(ratio)) * SSD_TRAINING_SIDE,
  ];
  return SSD_STRIDES.map((_, k) =>
    k === 0
      ? [box(0.1, 1), box(scale(0), 2), box(scale(0), 0.5)]
      : [
          box(scale(k), 1),
          box(Math.sqrt(scale(k) * scale(k + 1)), 1),
          box(scale(k), 2),
          box(scale(k), 0.5),
          box(scale(k), 3),
          box(scale(k), 1 / 3),
        ],
  );
}

/**
 * Anchors for a `width` x `height` input as [centreX, centreY, width, height] in input pixels, in
 * the order the model lays its predictions out: feature map, then row, then column, then anchor.
 * Each map is ceil(input / stride) cells (SAME padding); centres sit in the middle of the cells.
 */
export function ssdAnchors(
  strides: readonly number[],
  sizes: readonly (readonly [number, number])[][],
  width: number,
  height: number,
): Float32Array {
  const maps = strides.map((stride) => [Math.ceil(width / stride), Math.ceil(height / stride)] as const);
  const count = maps.reduce((n, [w, h], i) => n + w * h * (sizes[i]?.length ?? 0), 0);
  const anchors = new Float32Array(count * 4);
  let o = 0;
  maps.forEach(([columns, rows], i) => {
    const cellWidth = width / columns;
    const cellHeight = height / rows;
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        for (const [w, h] of sizes[i] ?? []) {
          anchors[o++] = (column + 0.5) * cellWidth;
          anchors[o++] = (row + 0.5) * cellHeight;
          anchors[o++] = w;
          anchors[o++] = h;
        }
      }
    }
  });
  return anchors;
}
