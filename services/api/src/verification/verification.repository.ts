import type { ConfirmationPayload } from '@vigil/contract';
import type { Queryable } from '@vigil/core';

/** One operator's confirmation of an alert. */
export type Confirmation = ConfirmationPayload;

interface ConfirmationRow {
  alert_id: string;
  user_id: string | null;
  username: string;
  note: string;
  created_at: Date | string;
}

const toConfirmation = (row: ConfirmationRow): Confirmation => ({
  userId: row.user_id,
  username: row.username,
  note: row.note,
  createdAt: new Date(row.created_at).toISOString(),
});

/** `deployments.two_person_verification` and `alert_verifications`. */
export class VerificationRepository {
  constructor(private readonly db: Queryable) {}

  /** Whether the deployment requires two-person verification; undefined for an unknown deployment. */
  async required(deploymentId: string, tx = this.db): Promise<boolean | undefined> {
    const { rows } = await tx.query<{ two_person_verification: boolean }>(
      'SELECT two_person_verification FROM deployments WHERE id = $1',
      [deploymentId],
    );
    return rows[0]?.two_person_verification;
  }

  /** Sets the requirement on the locked deployment row; returns its status, undefined if unknown. */
  async setRequired(deploymentId: string, required: boolean, tx: Queryable): Promise<void> {
    await tx.query('UPDATE deployments SET two_person_verification = $2 WHERE id = $1', [
      deploymentId,
      required,
    ]);
  }

  async lockDeployment(
    deploymentId: string,
    tx: Queryable,
  ): Promise<{ status: string; required: boolean } | undefined> {
    const { rows } = await tx.query<{ status: string; two_person_verification: boolean }>(
      'SELECT status, two_person_verification FROM deployments WHERE id = $1 FOR UPDATE',
      [deploymentId],
    );
    const row = rows[0];
    return row ? { status: row.status, required: row.two_person_verification } : undefined;
  }

  /** Locks the alert so that two confirmations arriving together are counted one after the other. */
  async lockAlert(alertId: string, tx: Queryable): Promise<void> {
    await tx.query('SELECT id FROM alerts WHERE id = $1::bigint FOR UPDATE', [alertId]);
  }

  async insert(
    input: { alertId: string; userId: string; username: string; note: string },
    tx: Queryable,
  ): Promise<void> {
    await tx.query(
      'INSERT INTO alert_verifications (alert_id, user_id, username, note) VALUES ($1::bigint, $2, $3, $4)',
      [input.alertId, input.userId, input.username, input.note],
    );
  }

  /** Confirmations of each given alert, oldest first. */
  async confirmationsOf(alertIds: string[], tx = this.db): Promise<Map<string, Confirmation[]>> {
    const out = new Map<string, Confirmation[]>();
    if (alertIds.length === 0) return out;
    const { rows } = await tx.query<ConfirmationRow>(
      `SELECT alert_id::text AS alert_id, user_id, username, note, created_at FROM alert_verifications
       WHERE alert_id = ANY($1::bigint[]) ORDER BY id`,
      [alertIds],
    );
    for (const row of rows) out.set(row.alert_id, [...(out.get(row.alert_id) ?? []), toConfirmation(row)]);
    return out;
  }

  /** The newest alerts of a deployment (ids as text), for the operator console's verification panel. */
  async recentAlertIds(deploymentId: string, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      'SELECT id::text AS id FROM alerts WHERE deployment_id = $1 ORDER BY alerts.id DESC LIMIT $2',
      [deploymentId, limit],
    );
    return rows.map((row) => row.id);
  }
}
