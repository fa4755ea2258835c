import { describe, expect, it } from 'vitest';
import {
  CameraState,
  decodeCameraStatus,
  decodeEmbedding,
  decodeFrame,
  encodeCameraStatus,
  encodeEmbedding,
  encodeFrame,
} from './index.js';

describe('bus messages', () => {
  it('round-trips a frame with its JPEG bytes and millisecond time exactly', () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    const bytes = encodeFrame({
      deploymentId: 'd',
      cameraId: 'c',
      sequence: 42,
      capturedAtMs: 1_795_000_000_123,
      width: 1920,
      height: 1080,
      jpeg,
    });
    const frame = decodeFrame(bytes);
    expect(frame.capturedAtMs).toBe(1_795_000_000_123);
    expect(frame.sequence).toBe(42);
    expect([...frame.jpeg]).toEqual([...jpeg]);
    expect(bytes.length).toBeLessThan(jpeg.length + 40);
  });

  it('packs an embedding vector as 4 bytes a float', () => {
    const vector = Array.from({ length: 128 }, (_, i) => i / 128);
    const bytes = encodeEmbedding({ trackId: 't', modelId: 'm', vector });
    expect(bytes.length).toBeLessThan(128 * 4 + 20);
    const decoded = decodeEmbedding(bytes);
    expect(decoded.vector.length).toBe(128);
    expect(decoded.vector[5]).toBeCloseTo(5 / 128, 6);
  });

  it('keeps the camera state enum', () => {
    const status = decodeCameraStatus(
      encodeCameraStatus({
        cameraId: 'c',
        state: CameraState.OFFLINE,
        restarts: 3,
        lastErrorCode: 'ffmpeg_exit',
      }),
    );
    expect(status.state).toBe(CameraState.OFFLINE);
    expect(status.restarts).toBe(3);
    expect(status.lastErrorCode).toBe('ffmpeg_exit');
  });
});
