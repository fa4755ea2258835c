import { describe, expect, it } from 'vitest';
import { DLIB_CHIP_LANDMARKS, dlibChipTemplate } from './dlib-chip.js';
import { applyAffine, similarityTransform } from './face-geometry.js';

describe('dlib chip alignment', () => {
  it("fits the 33 landmarks dlib's get_face_chip_details fits: no jaw, eyebrows or lower lip", () => {
    expect(DLIB_CHIP_LANDMARKS).toHaveLength(33);
    for (const excluded of [0, 16, 17, 26, 55, 59, 65, 67])
      expect(DLIB_CHIP_LANDMARKS).not.toContain(excluded);
    for (const kept of [27, 30, 33, 36, 45, 48, 54, 60, 64]) expect(DLIB_CHIP_LANDMARKS).toContain(kept);
  });

  it('places the mean face at dlib padding 0.25 in a 150 chip: nose tip (30) at x 74.01, eye corners level', () => {
    const template = dlibChipTemplate(150);
    const at = (landmark: number) => template[DLIB_CHIP_LANDMARKS.indexOf(landmark)] as [number, number];
    // (0.25 + 0.490127) / 1.5 * 150
    expect(at(30)[0]).toBeCloseTo(74.0127, 3);
    expect(at(36)[1]).toBeCloseTo(at(45)[1], 6);
  });

  it('maps a face rotated, scaled and moved in the image back onto the template', () => {
    const template = dlibChipTemplate(150);
    const angle = 0.3;
    const image = template.map(([x, y]): [number, number] => [
      2 * (Math.cos(angle) * x - Math.sin(angle) * y) + 400,
      2 * (Math.sin(angle) * x + Math.cos(angle) * y) + 120,
    ]);
    const toChip = similarityTransform(image, template);
    for (const [i, point] of image.entries()) {
      const [x, y] = applyAffine(toChip, point);
      expect(x).toBeCloseTo((template[i] as [number, number])[0], 6);
      expect(y).toBeCloseTo((template[i] as [number, number])[1], 6);
    }
  });
});
