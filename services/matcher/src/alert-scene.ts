import { alertSceneContext, type Bus, type DataCipher, type Logger, subject } from '@vigil/core';
import { decodeSceneImage, encodeSceneRequest } from '@vigil/proto';
import type { MatchedAlertRepository } from './matched-alert.repository.js';

/** Where an alert came from: the frame, the track and the matched face's box in it. */
export interface SceneSource {
  deploymentId: string;
  cameraId: string;
  sequence: number;
  capturedAtMs: number;
  trackId: string;
  box: { x: number; y: number; width: number; height: number };
}

/**
 * 3 s: a detector composes a scene in tens of milliseconds; past this no detector holds the frame
 * (the request has no answer when none does, on NATS).
 */
export const SCENE_REQUEST_TIMEOUT_MS = 3000;

const isJpeg = (bytes: Uint8Array) => bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/**
 * Keeps the scene of each new alert: asks the detectors for the alert's frame, composed where the
 * raw frame is (matched face boxed, every other face blurred), and stores it sealed with the alert.
 * Asked only for a stored alert, after it is published: a scene never delays an alert, and a face
 * that matched nothing never causes one to be composed. An alert whose frame no detector holds
 * any more (a restart, a slow pipeline) keeps none.
 */
export class AlertScenes {
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      bus: Bus;
      alerts: MatchedAlertRepository;
      cipher: DataCipher;
      logger: Logger;
      timeoutMs?: number;
    },
  ) {}

  /** Starts keeping `alertId`'s scene; `settled` waits for it. */
  keep(alertId: string, source: SceneSource): void {
    const work = this.#keep(alertId, source).finally(() => this.#pending.delete(work));
    this.#pending.add(work);
  }

  /** Resolves when every scene asked for so far is stored or given up. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #keep(alertId: string, source: SceneSource): Promise<void> {
    const { bus, alerts, cipher, logger } = this.deps;
    const { deploymentId, cameraId, sequence, capturedAtMs, trackId, box } = source;
    let jpeg: Uint8Array;
    try {
      const answer = await bus.request(
        subject('scenes', deploymentId, cameraId),
        encodeSceneRequest({ frame: { deploymentId, cameraId, sequence, capturedAtMs }, trackId, box }),
        { timeoutMs: this.deps.timeoutMs ?? SCENE_REQUEST_TIMEOUT_MS },
      );
      jpeg = decodeSceneImage(answer.data).jpeg;
    } catch (error) {
      logger.info(
        { alert: alertId, reason: (error as { code?: string }).code },
        'alert kept without a scene',
      );
      return;
    }
    try {
      if (!isJpeg(jpeg)) {
        logger.warn({ alert: alertId }, 'alert scene answer was not a JPEG; kept without a scene');
        return;
      }
      await alerts.storeScene(alertId, (dedupeKey) => cipher.seal(jpeg, alertSceneContext(dedupeKey)));
    } catch (error) {
      logger.warn({ err: error, alert: alertId }, 'alert scene could not be stored');
    } finally {
      jpeg.fill(0);
    }
  }
}
