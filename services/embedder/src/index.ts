export { FaceEmbedder, mirror } from './face-embedder.service.js';
export { ModelError } from './model.errors.js';
export { OnnxModel, type OutputTensor, type SessionOptions } from './onnx-session.repository.js';
export { cosineSimilarity, l2Normalise } from './similarity.js';
export { packTensor } from './tensor.js';
