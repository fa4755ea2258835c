import type { Queryable } from '@vigil/core';

/** What the published record reads beyond the statistics: list size by priority, threshold changes, the verification rule. */
export class PublishedRecordRepository {
  constructor(private readonly db: Queryable) {}

  /** Subjects on each deployment's frozen list per priority. */
  async subjectsByPriority(
    deploymentIds: string[],
  ): Promise<{ deploymentId: string; priority: string; subjects: number }[]> {
    const { rows } = await this.db.query<{
      deployment_id: string;
      priority: string;
      subjects: string | number;
    }>(
      `SELECT deployment_id, priority, count(*) AS subjects FROM deployment_subject_log
       WHERE deployment_id = ANY($1::uuid[]) GROUP BY deployment_id, priority`,
      [deploymentIds],
    );
    return rows.map((row) => ({
      deploymentId: row.deployment_id,
      priority: row.priority,
      subjects: Number(row.subjects),
    }));
  }

  /** How many times each deployment's threshold was changed (audited `deployment.threshold_change`). */
  async thresholdChanges(deploymentIds: string[]): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ target_id: string; changes: string | number }>(
      `SELECT target_id, count(*) AS changes FROM audit_log
       WHERE action = 'deployment.threshold_change' AND target_id = ANY($1::text[]) GROUP BY target_id`,
      [deploymentIds],
    );
    return new Map(rows.map((row) => [row.target_id, Number(row.changes)]));
  }

  /** The deployments that require two-person verification. */
  async twoPersonVerification(deploymentIds: string[]): Promise<Set<string>> {
    const { rows } = await this.db.query<{ id: string; two_person_verification: boolean }>(
      'SELECT id, two_person_verification FROM deployments WHERE id = ANY($1::uuid[])',
      [deploymentIds],
    );
    return new Set(rows.filter((row) => row.two_person_verification).map((row) => row.id));
  }
}
