import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { type Alert, AlertSchema } from './gen/vigil/v1/alert_pb.js';
import { type Embedding, EmbeddingSchema } from './gen/vigil/v1/embedding_pb.js';
import { type Face, FaceSchema } from './gen/vigil/v1/face_pb.js';
import { type Frame, FrameSchema } from './gen/vigil/v1/frame_pb.js';
import {
  type SceneImage,
  SceneImageSchema,
  type SceneRequest,
  SceneRequestSchema,
} from './gen/vigil/v1/scene_pb.js';
import {
  type CameraStatus,
  CameraStatusSchema,
  type DeploymentChanged,
  DeploymentChangedSchema,
  type StageCounters,
  StageCountersSchema,
} from './gen/vigil/v1/status_pb.js';

export * from './gen/vigil/v1/alert_pb.js';
export * from './gen/vigil/v1/embedding_pb.js';
export * from './gen/vigil/v1/face_pb.js';
export * from './gen/vigil/v1/frame_pb.js';
export * from './gen/vigil/v1/scene_pb.js';
export * from './gen/vigil/v1/status_pb.js';
export { create, fromBinary, toBinary };

/** Encodes a frame for vigil.v1.<deployment>.frames.<camera>. */
export const encodeFrame = (init: MessageInitShape<typeof FrameSchema>): Uint8Array =>
  toBinary(FrameSchema, create(FrameSchema, init));
export const decodeFrame = (bytes: Uint8Array): Frame => fromBinary(FrameSchema, bytes);

/** Encodes an aligned face crop for vigil.v1.<deployment>.faces.<camera>. */
export const encodeFace = (init: MessageInitShape<typeof FaceSchema>): Uint8Array =>
  toBinary(FaceSchema, create(FaceSchema, init));
export const decodeFace = (bytes: Uint8Array): Face => fromBinary(FaceSchema, bytes);

/** Encodes an embedding for vigil.v1.<deployment>.embeddings.<camera>. */
export const encodeEmbedding = (init: MessageInitShape<typeof EmbeddingSchema>): Uint8Array =>
  toBinary(EmbeddingSchema, create(EmbeddingSchema, init));
export const decodeEmbedding = (bytes: Uint8Array): Embedding => fromBinary(EmbeddingSchema, bytes);

/** Encodes a stored alert for the durable stream (vigil.v1.<deployment>.alerts.<camera>). */
export const encodeAlert = (init: MessageInitShape<typeof AlertSchema>): Uint8Array =>
  toBinary(AlertSchema, create(AlertSchema, init));
export const decodeAlert = (bytes: Uint8Array): Alert => fromBinary(AlertSchema, bytes);

/** Encodes a camera's health for vigil.v1.<deployment>.status.<camera>. */
export const encodeCameraStatus = (init: MessageInitShape<typeof CameraStatusSchema>): Uint8Array =>
  toBinary(CameraStatusSchema, create(CameraStatusSchema, init));
export const decodeCameraStatus = (bytes: Uint8Array): CameraStatus => fromBinary(CameraStatusSchema, bytes);

/** Encodes stage counters for vigil.v1.<deployment>.counters.<camera>. */
export const encodeStageCounters = (init: MessageInitShape<typeof StageCountersSchema>): Uint8Array =>
  toBinary(StageCountersSchema, create(StageCountersSchema, init));
export const decodeStageCounters = (bytes: Uint8Array): StageCounters =>
  fromBinary(StageCountersSchema, bytes);

/** Encodes a deployment change notice for vigil.v1.<deployment>.control.deployment. */
export const encodeDeploymentChanged = (init: MessageInitShape<typeof DeploymentChangedSchema>): Uint8Array =>
  toBinary(DeploymentChangedSchema, create(DeploymentChangedSchema, init));
export const decodeDeploymentChanged = (bytes: Uint8Array): DeploymentChanged =>
  fromBinary(DeploymentChangedSchema, bytes);

/** Encodes the matcher's request for an alert's scene on vigil.v1.<deployment>.scenes.<camera>. */
export const encodeSceneRequest = (init: MessageInitShape<typeof SceneRequestSchema>): Uint8Array =>
  toBinary(SceneRequestSchema, create(SceneRequestSchema, init));
export const decodeSceneRequest = (bytes: Uint8Array): SceneRequest => fromBinary(SceneRequestSchema, bytes);

/** Encodes a composed scene (the detector's answer to a SceneRequest, and a live view frame). */
export const encodeSceneImage = (init: MessageInitShape<typeof SceneImageSchema>): Uint8Array =>
  toBinary(SceneImageSchema, create(SceneImageSchema, init));
export const decodeSceneImage = (bytes: Uint8Array): SceneImage => fromBinary(SceneImageSchema, bytes);
