import type { Database, Logger, Queryable } from '@vigil/core';
import { AdvisoryLockLeases } from './camera-lease.repository.js';
import type { CameraLeases } from './camera-leases.js';
import type { CameraSpec } from './camera-supervisor.service.js';

/** Where ingest learns which cameras should run. */
export interface CameraSource {
  /** Cameras of every deployment whose status is `running`. */
  listRunningCameras(): Promise<CameraSpec[]>;
  /** The camera leases of replicas sharing this source; none: one replica runs every camera. */
  leases?(logger: Logger): CameraLeases | undefined;
}

/** Reads `cameras` joined with running `deployments`. */
export class CameraRepository implements CameraSource {
  constructor(private readonly db: Queryable | Database) {}

  /**
   * Advisory-lock leases on PostgreSQL, where several ingest processes may share the database.
   * None on PGlite: its data directory opens in one process only, so one ingest runs every camera.
   */
  leases(logger: Logger): CameraLeases | undefined {
    const db = this.db as Partial<Database>;
    return db.kind === 'postgres' ? new AdvisoryLockLeases(this.db as Database, logger) : undefined;
  }

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
