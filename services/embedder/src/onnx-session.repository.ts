import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { ModelError } from './model.errors.js';

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

/**
 * One ONNX model on onnxruntime-node. The only place the embedder and detector touch onnxruntime:
 * feeds go in as float32 arrays, outputs come back as float32 arrays.
 */
export class OnnxModel {
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
    const results = await this.session.run({ [name]: tensor }, outputs as string[]);
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

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
