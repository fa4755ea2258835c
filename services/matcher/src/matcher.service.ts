import {
  alertCropContext,
  allowLabelTokens,
  type DataCipher,
  type Logger,
  type VigilMetrics,
  viewQuality,
} from '@vigil/core';
import type { Embedding } from '@vigil/proto';
import type { SceneSource } from './alert-scene.js';
import type { DeploymentCounters } from './deployment-counters.repository.js';
import type { MatchedAlertRepository, SuppressionReason } from './matched-alert.repository.js';
import type { DeploymentInfo, SnapshotMatch, SnapshotRepository } from './snapshot.repository.js';
import { TrackFusion, viewWeight } from './track-fusion.js';

export interface MatcherSettings {
  /** Snapshot size from which HNSW is used instead of exact search (VIGIL_HNSW_MIN_SIZE). */
  hnswMinSize: number;
  /** VIGIL_ALERT_COOLDOWN_SECONDS. */
  cooldownSeconds: number;
  /** How long a deployment's status, threshold and snapshot size are cached. */
  deploymentCacheMs?: number;
  /** How long a stopped deployment's series stay (see FORGET_GRACE_MS). */
  forgetGraceMs?: number;
}

allowLabelTokens('reason', 'same_track');

/** A track's fused views made way for a newer track (the fusion holds DEFAULT_MAX_TRACKS at most). */
const FUSION_FULL = 'track_fusion_full';
allowLabelTokens('reason', FUSION_FULL);

/** 2 s: a stopped deployment stops alerting within two seconds without a query per face. */
export const DEFAULT_DEPLOYMENT_CACHE_MS = 2000;

/**
 * After a deployment stops, its series stay this long before they leave the scrape: embeddings
 * already being searched when the notice came finish and are counted under it first.
 */
export const FORGET_GRACE_MS = 5000;

/** Embeddings of a deployment that has ended, counted without its id (its series are gone). */
const ENDED = 'deployment_ended';
allowLabelTokens('reason', ENDED);

/** The view's quality (`viewQuality`), when the detector measured it: what orders a track's crops. */
function probeQuality(embedding: Embedding): { probeQuality?: number } {
  const quality = embedding.quality ? viewQuality(embedding.quality) : Number.NaN;
  return Number.isFinite(quality) ? { probeQuality: quality } : {};
}

/** An alert as stored, for the durable stream and the operators. */
export interface MatchedAlert {
  id: string;
  deploymentId: string;
  cameraId: string;
  subjectId: string;
  referenceImageId: string;
  trackId: string;
  label: string;
  category: string;
  priority: string;
  score: number;
  threshold: number;
  capturedAtMs: number;
  createdAtMs: number;
  probeJpeg: Uint8Array;
}

/** An alert whose crop a better view of its track replaced. */
export interface UpgradedCrop {
  alertId: string;
  deploymentId: string;
  cameraId: string;
}

export type MatchOutcome =
  | { kind: 'no_match' }
  /** `source`: the frame and face the alert came from, for its scene. */
  | { kind: 'alert'; alert: MatchedAlert; source?: SceneSource }
  /** `cropUpgraded`: this better view's crop replaced that of the track's alert. */
  | { kind: 'suppressed'; reason: SuppressionReason; cropUpgraded?: UpgradedCrop }
  | { kind: 'dropped'; reason: 'not_running' | 'other' };

export interface MatcherDependencies {
  snapshots: SnapshotRepository;
  alerts: MatchedAlertRepository;
  counters: DeploymentCounters;
  cipher: DataCipher;
  encodeProbe: (crop: Uint8Array, width: number, height: number) => Promise<Uint8Array>;
  logger: Logger;
  metrics?: VigilMetrics;
}

/**
 * The decisions of the matcher: search the running deployment's snapshot (same model, its
 * threshold), store a match as an alert with its sealed probe crop (once per camera and subject
 * within the cooldown), count everything. A non-match is counted and forgotten: its vector and crop
 * are zero-filled and nothing about it is stored, logged or labelled.
 */
export class MatcherService {
  readonly #deployments = new Map<string, { at: number; info: DeploymentInfo | undefined; size: number }>();
  readonly #cacheMs: number;
  readonly #fusion: TrackFusion;

  constructor(
    private readonly deps: MatcherDependencies,
    private readonly settings: MatcherSettings,
  ) {
    this.#cacheMs = settings.deploymentCacheMs ?? DEFAULT_DEPLOYMENT_CACHE_MS;
    this.#fusion = new TrackFusion({
      onEvicted: () => this.deps.metrics?.queueDropped.inc({ stage: 'embeddings', reason: FUSION_FULL }),
    });
  }

  async handle(embedding: Embedding): Promise<MatchOutcome> {
    try {
      return await this.#handle(embedding);
    } finally {
      embedding.vector.fill(0);
      embedding.crop.fill(0);
    }
  }

  async #handle(embedding: Embedding): Promise<MatchOutcome> {
    const frame = embedding.frame;
    if (!frame || embedding.vector.length === 0) return { kind: 'dropped', reason: 'other' };
    const { deploymentId, cameraId } = frame;
    const cached = await this.#deployment(deploymentId, embedding.modelId);
    const info = cached.info;
    if (info?.status === 'stopped') {
      this.deps.metrics?.queueDropped.inc({ stage: 'embeddings', reason: ENDED });
      return { kind: 'dropped', reason: 'not_running' };
    }
    if (!info || info.status !== 'running' || info.model !== embedding.modelId) {
      this.deps.metrics?.framesDropped.inc({
        deployment: deploymentId,
        camera: cameraId,
        reason: 'not_running',
      });
      return { kind: 'dropped', reason: 'not_running' };
    }
    // Decided per person: the view alone, and once the track has more than one, the quality-weighted
    // mean of all its views: a second independent view adds to the first, and a clear view is not
    // dragged down by the turned or distant ones before it. The better of the two decides.
    const fused = embedding.trackId
      ? this.#fusion.add(
          `${deploymentId}/${cameraId}/${embedding.trackId}`,
          `${frame.sequence}/${frame.capturedAtMs}`,
          embedding.vector,
          viewWeight(embedding.quality),
          Date.now(),
        )
      : undefined;
    const probes: ArrayLike<number>[] = [embedding.vector];
    if (fused && fused.views > 1) probes.push(fused.vector);
    const search = (probe: ArrayLike<number>) =>
      cached.size >= this.settings.hnswMinSize
        ? this.deps.snapshots.matchHnsw(deploymentId, info.model, probe, info.threshold)
        : this.deps.snapshots.matchExact(deploymentId, info.model, probe, info.threshold);
    const timer = this.deps.metrics?.databaseSeconds.startTimer({ stage: 'match_query' });
    let matches: SnapshotMatch[] = [];
    try {
      for (const probe of probes) {
        const found = await search(probe);
        if ((found[0]?.score ?? Number.NEGATIVE_INFINITY) > (matches[0]?.score ?? Number.NEGATIVE_INFINITY))
          matches = found;
      }
    } finally {
      timer?.();
      fused?.vector.fill(0);
    }
    this.deps.metrics?.matchQueries.inc({ deployment: deploymentId });
    const best = matches[0];
    if (!best) {
      this.deps.counters.add(deploymentId, cameraId, { facesProcessed: 1 });
      return { kind: 'no_match' };
    }
    this.deps.counters.add(deploymentId, cameraId, { facesProcessed: 1, facesMatched: 1 });
    this.deps.metrics?.matches.inc({ deployment: deploymentId });
    const probeJpeg = await this.deps.encodeProbe(embedding.crop, embedding.cropWidth, embedding.cropHeight);
    const dedupeKey = `${deploymentId}/${cameraId}/${frame.sequence}/${frame.capturedAtMs}/${embedding.trackId}/${best.subjectId}`;
    // What the alert says, as stored and as published.
    const match = {
      deploymentId,
      cameraId,
      subjectId: best.subjectId,
      referenceImageId: best.referenceImageId,
      trackId: embedding.trackId,
      label: best.label,
      category: best.category,
      priority: best.priority,
      score: best.score,
      threshold: info.threshold,
    };
    const result = await this.deps.alerts.store(
      {
        ...match,
        capturedAt: new Date(frame.capturedAtMs),
        // Bound to the alert's row: a crop moved to another alert does not open.
        encryptedProbe: this.deps.cipher.seal(probeJpeg, alertCropContext(dedupeKey)),
        dedupeKey,
        ...probeQuality(embedding),
        sealProbeFor: (rowKey) => this.deps.cipher.seal(probeJpeg, alertCropContext(rowKey)),
      },
      this.settings.cooldownSeconds,
    );
    if ('suppressed' in result) {
      probeJpeg.fill(0);
      this.deps.metrics?.alertsSuppressed.inc({ deployment: deploymentId, reason: result.suppressed });
      if (!result.upgraded) return { kind: 'suppressed', reason: result.suppressed };
      this.deps.logger.info(
        { deployment: deploymentId, camera: cameraId, alert: result.upgraded.id },
        'alert crop replaced by a better view of its track',
      );
      return {
        kind: 'suppressed',
        reason: result.suppressed,
        cropUpgraded: { alertId: result.upgraded.id, deploymentId, cameraId },
      };
    }
    this.deps.metrics?.alerts.inc({ deployment: deploymentId, camera: cameraId });
    this.deps.logger.info(
      { deployment: deploymentId, camera: cameraId, alert: result.stored.id },
      'alert stored',
    );
    return {
      kind: 'alert',
      alert: {
        id: result.stored.id,
        ...match,
        capturedAtMs: frame.capturedAtMs,
        createdAtMs: result.stored.createdAt.getTime(),
        probeJpeg,
      },
      ...(embedding.box && {
        source: {
          deploymentId,
          cameraId,
          sequence: frame.sequence,
          capturedAtMs: frame.capturedAtMs,
          trackId: embedding.trackId,
          box: {
            x: embedding.box.x,
            y: embedding.box.y,
            width: embedding.box.width,
            height: embedding.box.height,
          },
        },
      }),
    };
  }

  /**
   * The API's notice that a deployment stopped: its status is read again at the next embedding, and
   * its series leave this process's scrape after FORGET_GRACE_MS (a stopped deployment's
   * `vigil_match_queries_total` must not stay exposed until the matcher restarts).
   */
  deploymentStopped(deploymentId: string): void {
    this.#deployments.delete(deploymentId);
    this.#fusion.forgetPrefix(`${deploymentId}/`);
    this.#forgetLater(deploymentId);
  }

  #forgetLater(deploymentId: string): void {
    const timer = setTimeout(
      () => this.deps.metrics?.forgetDeployment(deploymentId),
      this.settings.forgetGraceMs ?? FORGET_GRACE_MS,
    );
    timer.unref();
  }

  async #deployment(deploymentId: string, model: string) {
    const now = Date.now();
    const cached = this.#deployments.get(deploymentId);
    if (cached && now - cached.at < this.#cacheMs) return cached;
    const info = await this.deps.snapshots.deployment(deploymentId);
    const size = info && info.status === 'running' ? await this.deps.snapshots.size(deploymentId, model) : 0;
    const entry = { at: now, info, size };
    this.#deployments.set(deploymentId, entry);
    // Seen running, now stopped, and no notice came (NATS was down then): forget it all the same.
    if (cached?.info?.status === 'running' && info?.status === 'stopped') this.#forgetLater(deploymentId);
    return entry;
  }
}
