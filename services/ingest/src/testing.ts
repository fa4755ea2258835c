import { spawnSync } from 'node:child_process';
import { ffmpegPath } from './ffmpeg-process.js';

/**
 * Writes a short H.264 test pattern (ffmpeg's `testsrc2`) to `file`, for tests that run a file
 * camera through real ffmpeg. Throws with ffmpeg's message when it cannot.
 */
export function makeTestVideo(
  file: string,
  options: { size?: string; fps?: number; seconds?: number } = {},
): string {
  const { size = '320x240', fps = 10, seconds = 3 } = options;
  const made = spawnSync(
    ffmpegPath(),
    [
      ...[
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${size}:rate=${fps}`,
        '-t',
        String(seconds),
      ],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file],
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`ffmpeg could not make the test video: ${made.stderr}`);
  return file;
}
