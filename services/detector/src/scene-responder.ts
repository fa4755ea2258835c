import { allSubjects, type Bus, type BusSubscription, type Logger } from '@vigil/core';
import { composeScene, SCENE_MAX_WIDTH, type SceneBox } from '@vigil/face-runtime';
import { decodeSceneRequest, encodeSceneImage, type SceneRequest } from '@vigil/proto';
import { iou } from './face-tracker.js';
import type { SceneFrames } from './scene-frames.js';

/**
 * 0.5 IoU: the request carries the very box this detector sent with the face; anything less is
 * another face of the frame.
 */
const SAME_FACE_IOU = 0.5;

export interface SceneResponderOptions {
  bus: Bus;
  frames: SceneFrames;
  logger: Logger;
  /** Told of each track that alerted (the live view keeps its face unblurred from then on). */
  onAlerted?: (deploymentId: string, cameraId: string, trackId: string) => void;
}

/**
 * Answers the matcher's requests for an alert's scene (`scenes` subjects, no queue group: every
 * detector hears each request and only the one holding the frame answers). The scene is composed
 * here, where the raw frame is: the matched face sharp and outlined, every other face blurred, so
 * no bystander's face leaves this process.
 */
export function startSceneResponder(options: SceneResponderOptions): BusSubscription {
  const { bus, frames, logger } = options;
  return bus.subscribe(
    allSubjects('scenes'),
    async (message) => {
      let request: SceneRequest;
      try {
        request = decodeSceneRequest(message.data);
      } catch {
        return; // not a request: nothing to answer
      }
      const { frame, box } = request;
      if (!frame || !box) return;
      const held = frames.find(`${frame.deploymentId}/${frame.cameraId}`, frame.sequence, frame.capturedAtMs);
      if (!held) return;
      const wanted: SceneBox = [box.x, box.y, box.width, box.height];
      const matched = held.faces.reduce<{ index: number; overlap: number }>(
        (best, face, index) => {
          const overlap = iou(face.box, wanted) + (face.trackId === request.trackId ? 1 : 0);
          return overlap > best.overlap ? { index, overlap } : best;
        },
        { index: -1, overlap: SAME_FACE_IOU },
      );
      if (matched.index < 0) return;
      options.onAlerted?.(
        frame.deploymentId,
        frame.cameraId,
        held.faces[matched.index]?.trackId ?? request.trackId,
      );
      try {
        const scene = await composeScene(held.jpeg, {
          keep: [held.faces[matched.index]?.box as SceneBox],
          blur: held.faces.filter((_, i) => i !== matched.index).map((face) => face.box),
          maxWidth: SCENE_MAX_WIDTH,
        });
        message.respond(encodeSceneImage(scene));
        scene.jpeg.fill(0);
      } catch (error) {
        logger.warn({ err: error, camera: frame.cameraId }, 'alert scene could not be composed');
      }
    },
    { maxPending: 64, concurrency: 2 },
  );
}
