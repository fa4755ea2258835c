import { FFmpeg } from '@ffmpeg/ffmpeg';

/** Stills taken from one video at most: enough to pick enrolment photos, bounded in memory. */
export const MAX_STILLS = 24;

let instance: Promise<FFmpeg> | undefined;

/**
 * ffmpeg compiled to WebAssembly, loaded from this origin (`/ffmpeg/`, copied into dist at build):
 * the video is decoded in the browser and never leaves the manager's machine.
 */
function loadFfmpeg(): Promise<FFmpeg> {
  instance ??= (async () => {
    const ffmpeg = new FFmpeg();
    const base = new URL('/ffmpeg/', location.origin).href;
    await ffmpeg.load({ coreURL: `${base}ffmpeg-core.js`, wasmURL: `${base}ffmpeg-core.wasm` });
    return ffmpeg;
  })();
  instance.catch(() => {
    instance = undefined;
  });
  return instance;
}

/** After a crash the WebAssembly instance is unusable: the next call loads a fresh one. */
async function discard(ffmpeg: FFmpeg): Promise<void> {
  instance = undefined;
  try {
    ffmpeg.terminate();
  } catch {
    // already gone
  }
}

/** The duration ffmpeg prints for the input (`Duration: HH:MM:SS.ss`), in seconds. */
function parseDuration(log: string[]): number | undefined {
  for (const line of log) {
    const match = /Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
    if (match) return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  }
  return undefined;
}

/**
 * Up to MAX_STILLS JPEG stills spread over the video, as Files ready for enrolment. Each still is
 * its own short run that seeks to its time: the single-threaded ffmpeg.wasm core ran out of bounds
 * decoding a whole video in one run (measured with a 23 s H.264 clip), and seeking skips most
 * decoding on long videos.
 */
export async function extractStills(
  video: File,
  options: { onProgress?: (ratio: number) => void } = {},
): Promise<File[]> {
  const ffmpeg = await loadFfmpeg();
  const log: string[] = [];
  const keepLog = ({ message }: { message: string }) => {
    log.push(message);
    if (log.length > 200) log.shift();
  };
  ffmpeg.on('log', keepLog);
  const input = `input${video.name.match(/\.[A-Za-z0-9]{1,5}$/)?.[0] ?? '.mp4'}`;
  const files: File[] = [];
  try {
    await ffmpeg.writeFile(input, new Uint8Array(await video.arrayBuffer()));
    // No output: ffmpeg prints the input's description (with its duration) and exits non-zero.
    await ffmpeg.exec(['-hide_banner', '-i', input]);
    const duration = parseDuration(log);
    if (duration === undefined)
      throw new Error(`ffmpeg could not read this video: ${log.slice(-2).join(' / ')}`);
    const count = Math.max(1, Math.min(MAX_STILLS, Math.floor(duration)));
    for (let index = 0; index < count; index++) {
      const at = ((index + 0.5) * duration) / count;
      const name = `still-${index}.jpg`;
      const code = await ffmpeg.exec([
        '-ss',
        at.toFixed(2),
        '-i',
        input,
        '-frames:v',
        '1',
        '-q:v',
        '2',
        name,
      ]);
      if (code === 0) {
        const data = await ffmpeg.readFile(name);
        if (typeof data !== 'string')
          files.push(
            new File([new Uint8Array(data)], `${video.name}-${at.toFixed(1)}s.jpg`, { type: 'image/jpeg' }),
          );
        await ffmpeg.deleteFile(name).catch(() => {});
      }
      options.onProgress?.((index + 1) / count);
    }
    await ffmpeg.deleteFile(input).catch(() => {});
    return files;
  } catch (error) {
    await discard(ffmpeg);
    if (files.length > 0) return files;
    throw error;
  } finally {
    ffmpeg.off('log', keepLog);
  }
}
