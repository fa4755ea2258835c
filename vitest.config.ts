import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'services/*/src/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'models/src/**/*.test.ts',
      'models/test/**/*.test.ts',
      'proto/src/**/*.test.ts',
      'test/**/*.test.ts',
      'benchmarks/src/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Integration tests share one PostgreSQL database and one nats-server: files run one at a time,
    // and the two cores stay free for onnxruntime and ffmpeg inside each test.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
