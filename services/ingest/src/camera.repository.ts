import type { Queryable } from '@vigil/core';
import type { CameraSpec } from './camera-supervisor.service.js';

/** Where ingest learns which cameras should run. */
export interface CameraSource {
  /** Cameras of every deployment whose status is `running`. */
  listRunningCameras(): Promise<CameraSpec[]>;
}

/** Reads `cameras` joined with running `deployments`. */
export class CameraRepository implements CameraSource {
  constructor(private readonly db: Queryable) {}

  async listRunningCameras(): Promise<CameraSpec[]> {
    const { rows } = await this.db.query<{
      id: string;
      deployment_id: string;
      url: string;
      fps: number;
      realtime: boolean;
      loop: boolean;
    }>(
      `SELECT c.id, c.deployment_id, c.url, c.fps, c.realtime, c.loop
         FROM cameras c JOIN deployments d ON d.id = c.deployment_id
        WHERE d.status = 'running'
        ORDER BY c.created_at, c.id`,
    );
    return rows.map((r) => ({
      id: r.id,
      deploymentId: r.deployment_id,
      url: r.url,
      fps: Number(r.fps),
      realtime: r.realtime,
      loop: r.loop,
    }));
  }
}
