import { parentPort, workerData } from 'node:worker_threads';
import { FaceEngine, type FaceEngineOptions } from '../engine/face-engine.service.js';
import { analyseFrame } from './engine-adapters.js';

/** Messages the main thread sends; answers carry the same id. */
export type InferenceRequest =
  | { id: number; op: 'analyse'; jpeg: Uint8Array }
  | { id: number; op: 'embed'; crops: Uint8Array[] };

const port = parentPort;
if (!port) throw new Error('inference-thread.worker.ts runs only as a worker thread');

const engine = await FaceEngine.load(workerData as FaceEngineOptions);
port.postMessage({
  ready: true,
  modelId: engine.profile.modelId,
  cropSize: engine.cropSize,
});

port.on('message', async (request: InferenceRequest | { op: 'close' }) => {
  if (request.op === 'close') {
    await engine.dispose();
    port.close();
    return;
  }
  try {
    if (request.op === 'analyse') {
      const analysis = await analyseFrame(engine, request.jpeg);
      const faces = analysis.faces.map(({ face, crop }) => ({ face, crop }));
      port.postMessage(
        {
          id: request.id,
          result: {
            width: analysis.width,
            height: analysis.height,
            faces,
            inferenceSeconds: analysis.inferenceSeconds,
          },
        },
        faces.map((f) => f.crop.buffer as ArrayBuffer),
      );
    } else {
      const vectors = await engine.embed(request.crops);
      for (const crop of request.crops) crop.fill(0);
      port.postMessage(
        { id: request.id, result: vectors },
        vectors.map((v) => v.buffer as ArrayBuffer),
      );
    }
  } catch (error) {
    const e = error as { code?: string; message?: string; status?: number };
    port.postMessage({ id: request.id, error: { code: e.code, message: e.message, status: e.status } });
  }
});
