export { FaceEmbedder, mirror } from './face-embedder.service.js';
export { ModelError } from './model.errors.js';
export {
  type ImageInput,
  measureInference,
  OnnxModel,
  type OutputTensor,
  type SessionOptions,
} from './onnx-session.repository.js';
export { cosineSimilarity, l2Normalise } from './similarity.js';
export { type PackOptions, packTensor } from './tensor.js';
