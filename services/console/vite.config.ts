import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * ffmpeg.wasm's core (ESM build of @ffmpeg/core) served from our own origin under /ffmpeg/: the
 * browser loads it from this server, never from a CDN.
 */
function ffmpegCore(): Plugin {
  const coreFile = (name: string) =>
    path.join(path.dirname(fileURLToPath(import.meta.resolve('@ffmpeg/core'))), name);
  const files = ['ffmpeg-core.js', 'ffmpeg-core.wasm'];
  return {
    name: 'vigil-ffmpeg-core',
    configureServer(server) {
      server.middlewares.use('/ffmpeg', (request, response, next) => {
        const name = (request.url ?? '').replace(/^\//, '').split('?')[0] ?? '';
        if (!files.includes(name)) return next();
        response.setHeader('content-type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        fs.createReadStream(coreFile(name)).pipe(response);
      });
    },
    writeBundle(options) {
      const out = path.join(options.dir ?? path.join(here, 'dist'), 'ffmpeg');
      fs.mkdirSync(out, { recursive: true });
      for (const name of files) fs.copyFileSync(coreFile(name), path.join(out, name));
    },
  };
}

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  // @ffmpeg/ffmpeg starts its worker with new URL('./worker.js', import.meta.url): leave it unbundled in dev.
  optimizeDeps: { exclude: ['@ffmpeg/ffmpeg', '@ffmpeg/util'] },
  worker: { format: 'es' },
  plugins: [ffmpegCore()],
});
