import { ModelError } from '../onnx/model.errors.js';
import { OnnxModel, type SessionOptions } from '../onnx/onnx-session.js';
import type { EmbedderManifest } from '../profiles/manifest.js';
import { l2Normalise } from './similarity.js';

/**
 * Turns aligned face crops into L2-normalised embeddings. Crops are interleaved 8-bit RGB at the
 * manifest's `inputSize`; as many go into one onnxruntime call as the model's batch axis allows.
 */
export class FaceEmbedder {
  private constructor(
    readonly manifest: EmbedderManifest,
    private readonly model: OnnxModel,
    /** Crops per onnxruntime call. */
    readonly batchSize: number,
  ) {}

  /** Opens the embedder model and runs one warm-up inference. */
  static async load(manifest: EmbedderManifest, options: SessionOptions = {}): Promise<FaceEmbedder> {
    const model = await OnnxModel.open(manifest.file, options);
    const batchAxis = model.inputShape()[0];
    // A fixed batch axis in the file wins over what the manifest claims.
    const fixed = typeof batchAxis === 'number' && batchAxis > 0 ? batchAxis : undefined;
    const batchSize = Math.max(1, Math.min(manifest.maxBatch, fixed ?? manifest.maxBatch));
    if (fixed !== undefined && fixed !== 1 && fixed !== batchSize) {
      await model.dispose();
      throw new ModelError(`embedder ${manifest.file} has a fixed batch of ${fixed}`);
    }
    const embedder = new FaceEmbedder(manifest, model, batchSize);
    const [width, height] = manifest.inputSize;
    await embedder.embed([new Uint8Array(width * height * 3)]);
    return embedder;
  }

  /** One embedding per crop, in order (with its mirror image averaged in where the manifest says). */
  embed(crops: readonly Uint8Array[]): Promise<Float32Array[]> {
    return this.embedViews(crops.map((crop) => [crop]));
  }

  /**
   * One embedding per face from several views of it (the aligned crop, and the same face sampled
   * again slightly rotated or zoomed): every view, and its mirror image where the manifest says, is
   * embedded in one batched run, and a face's normalised embeddings are averaged (test-time
   * augmentation, as dlib's `num_jitters`). One view a face is `embed`.
   */
  async embedViews(faces: readonly (readonly Uint8Array[])[]): Promise<Float32Array[]> {
    // Each face's views, then the same views mirrored (packed flipped: no copies of the pixels).
    const copies = this.manifest.mirrorAverage ? 2 : 1;
    const crops: Uint8Array[] = [];
    const mirrored: boolean[] = [];
    for (const views of faces) {
      for (let copy = 0; copy < copies; copy++) {
        crops.push(...views);
        mirrored.push(...views.map(() => copy === 1));
      }
    }
    const all = await this.embedEach(crops, mirrored);
    const size = this.manifest.embeddingSize;
    let next = 0;
    return faces.map((views) => {
      const count = views.length * copies;
      if (count === 1) return all[next++] as Float32Array;
      const sum = new Float32Array(size);
      for (let v = 0; v < count; v++) {
        const embedding = all[next++] as Float32Array;
        for (let k = 0; k < size; k++) sum[k] = (sum[k] as number) + (embedding[k] as number);
      }
      return l2Normalise(sum);
    });
  }

  private async embedEach(
    crops: readonly Uint8Array[],
    mirrored: readonly boolean[],
  ): Promise<Float32Array[]> {
    const [width, height] = this.manifest.inputSize;
    const size = this.manifest.embeddingSize;
    const result: Float32Array[] = [];
    for (let start = 0; start < crops.length; start += this.batchSize) {
      const batch = crops.slice(start, start + this.batchSize);
      const outputs = await this.model.runImages(
        batch,
        {
          width,
          height,
          normalisation: this.manifest.normalisation,
          name: this.manifest.input,
          mirrored: mirrored.slice(start, start + this.batchSize),
        },
        [this.manifest.output],
      );
      const output = outputs[this.manifest.output];
      if (!output || output.data.length !== batch.length * size) {
        throw new ModelError(
          `embedder output ${this.manifest.output} has ${output?.data.length} values, expected ${batch.length * size}`,
        );
      }
      for (let n = 0; n < batch.length; n++) {
        result.push(l2Normalise(Float32Array.from(output.data.subarray(n * size, (n + 1) * size))));
      }
    }
    return result;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** The crop flipped left to right (interleaved RGB). */
export function mirror(crop: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(crop.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const from = row + (width - 1 - x) * 3;
      const to = row + x * 3;
      out[to] = crop[from] as number;
      out[to + 1] = crop[from + 1] as number;
      out[to + 2] = crop[from + 2] as number;
    }
  }
  return out;
}
