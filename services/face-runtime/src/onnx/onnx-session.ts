import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { packTensor } from '../embedding/tensor.js';
import type { TensorNormalisation } from '../profiles/manifest.js';
import { ModelError } from './model.errors.js';

/** RGB images as a model input: their size, the tensor's normalisation, and the input's name. */
export interface ImageInput {
  width: number;
  height: number;
  normalisation: TensorNormalisation;
  /** The model input (default: the first). */
  name?: string;
  /** Per image: packed flipped left to right (its mirror image). */
  mirrored?: readonly boolean[];
}

/** How an onnxruntime session runs: execution provider and intra-op threads. */
export interface SessionOptions {
  /** `cpu` (default), `cuda`, ... where the installed onnxruntime build has it. */
  executionProvider?: string;
  /** Intra-op threads; one measured fastest on the shared 2-core machine (FINDINGS.md). */
  threads?: number;
}

/** One output tensor, copied out of onnxruntime as plain float32 data. */
export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** Seconds of `session.run` gathered for the work `measureInference` runs. */
const inferenceClock = new AsyncLocalStorage<{ seconds: number }>();

/**
 * Runs `work` and returns its result with the seconds its model calls spent inside onnxruntime
 * (every `OnnxModel.run` it awaited, summed), without the decoding, packing and alignment around
 * them. Concurrent measurements do not mix: each sees only the calls made on its own behalf.
 */
export async function measureInference<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const clock = { seconds: 0 };
  const result = await inferenceClock.run(clock, work);
  return { result, seconds: clock.seconds };
}

/**
 * One ONNX model on onnxruntime-node. The only place the embedder and detector touch onnxruntime:
 * feeds go in as float32 arrays, outputs come back as float32 arrays.
 */
export class OnnxModel {
  /** The input tensor `runImages` packs into, kept between runs (grown when a batch needs more). */
  private images = new Float32Array(0);
  /** `runImages` calls in order, one at a time: they share `images`. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly file: string,
  ) {}

  /** Opens `file` with graph optimisation `all`; fails with `model_unavailable` when it cannot. */
  static async open(file: string, options: SessionOptions = {}): Promise<OnnxModel> {
    if (!fs.existsSync(file)) throw new ModelError(`model file ${file} does not exist`);
    const provider = options.executionProvider ?? 'cpu';
    // A GPU provider falls back to the CPU for operators it lacks.
    const executionProviders = provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
    try {
      const session = await ort.InferenceSession.create(file, {
        executionProviders,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: options.threads ?? 1,
        interOpNumThreads: 1,
        // Intra-op threads that spin between ops take the core the main thread needs for the
        // JavaScript around each run: with 2 threads on the 2-core machine a frame took 1.6x
        // longer spinning than not (README.md, "Memory and threads"). Moot with one thread.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return new OnnxModel(session, file);
    } catch (error) {
      throw new ModelError(`cannot load ${file} on ${provider}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** The declared shape of the first input; strings or -1 mark dynamic axes. */
  inputShape(): readonly (number | string)[] {
    const meta = this.session.inputMetadata[0];
    if (meta && 'shape' in meta && meta.isTensor) return meta.shape;
    return [];
  }

  /**
   * Runs the model on one float32 input (`inputName`, or the first input) and returns the named
   * outputs (all when none are named).
   */
  async run(
    input: Float32Array,
    dims: readonly number[],
    outputs: readonly string[] = this.session.outputNames,
    inputName?: string,
  ): Promise<Record<string, OutputTensor>> {
    const name = inputName ?? this.session.inputNames[0];
    if (!name) throw new ModelError(`model ${this.file} has no input`);
    const tensor = new ort.Tensor('float32', input, dims);
    const clock = inferenceClock.getStore();
    const started = process.hrtime.bigint();
    const results = await this.session.run({ [name]: tensor }, outputs as string[]);
    if (clock) clock.seconds += Number(process.hrtime.bigint() - started) / 1e9;
    const out: Record<string, OutputTensor> = {};
    for (const key of outputs) {
      const value = results[key];
      if (!value) throw new ModelError(`model ${this.file} has no output ${key}`);
      out[key] = { data: value.data as Float32Array, dims: value.dims };
      value.dispose();
    }
    tensor.dispose();
    return out;
  }

  /**
   * Runs the model on RGB images (`packTensor`'s layout and normalisation), packed into an input
   * tensor this model keeps: a fresh multi-megabyte array a call costs more in page faults than the
   * packing itself (a 6 MB batch of face crops: 13 ms against 1.3 ms on the 2-core machine). The
   * tensor holds face pixels, so it is zeroed once the run is over.
   */
  runImages(
    images: readonly Uint8Array[],
    input: ImageInput,
    outputs?: readonly string[],
  ): Promise<Record<string, OutputTensor>> {
    const turn = this.queue.then(async () => {
      const { width, height, normalisation, mirrored } = input;
      const length = images.length * width * height * 3;
      if (this.images.length < length) this.images = new Float32Array(length);
      const { data, dims } = packTensor(images, width, height, normalisation, {
        into: this.images,
        mirrored,
      });
      try {
        return await this.run(data, dims, outputs, input.name);
      } finally {
        data.fill(0);
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.images = new Float32Array(0);
    await this.session.release();
  }
}
