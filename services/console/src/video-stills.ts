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

/** One JPEG still every `everySeconds` of the video, at most MAX_STILLS, as Files ready for enrolment. */
export async function extractStills(
  video: File,
  options: { everySeconds?: number; onProgress?: (ratio: number) => void } = {},
): Promise<File[]> {
  const ffmpeg = await loadFfmpeg();
  const progress = ({ progress }: { progress: number }) =>
    options.onProgress?.(Math.max(0, Math.min(1, progress)));
  ffmpeg.on('progress', progress);
  const input = `input${video.name.match(/\.[A-Za-z0-9]{1,5}$/)?.[0] ?? '.mp4'}`;
  try {
    await ffmpeg.writeFile(input, new Uint8Array(await video.arrayBuffer()));
    const every = options.everySeconds ?? 1;
    const code = await ffmpeg.exec([
      '-i',
      input,
      '-vf',
      `fps=1/${every}`,
      '-frames:v',
      String(MAX_STILLS),
      '-q:v',
      '2',
      'still-%03d.jpg',
    ]);
    if (code !== 0) throw new Error('ffmpeg could not read this video');
    const files: File[] = [];
    for (let index = 1; index <= MAX_STILLS; index++) {
      const name = `still-${String(index).padStart(3, '0')}.jpg`;
      let data: Uint8Array | string;
      try {
        data = await ffmpeg.readFile(name);
      } catch {
        break;
      }
      if (typeof data === 'string') break;
      files.push(new File([new Uint8Array(data)], `${video.name}-${name}`, { type: 'image/jpeg' }));
      await ffmpeg.deleteFile(name);
    }
    return files;
  } finally {
    ffmpeg.off('progress', progress);
    await ffmpeg.deleteFile(input).catch(() => {});
  }
}
