import type { Queryable } from '@vigil/core';

/** Who holds an alert: one row of `alert_claims`, with the holder's username. */
export interface ClaimRecord {
  alertId: string;
  userId: string;
  username: string;
  claimedAt: string;
}

interface ClaimRow {
  alert_id: string;
  user_id: string;
  username: string;
  claimed_at: Date | string;
}

function toClaim(row: ClaimRow): ClaimRecord {
  return {
    alertId: row.alert_id,
    userId: row.user_id,
    username: row.username,
    claimedAt: new Date(row.claimed_at).toISOString(),
  };
}

const SELECT_CLAIM = `SELECT c.alert_id::text AS alert_id, c.user_id, u.username, c.claimed_at
  FROM alert_claims c JOIN users u ON u.id = c.user_id`;

/** The `alert_claims` table. */
export class AlertClaimRepository {
  constructor(private readonly db: Queryable) {}

  /** Takes the alert for `userId` unless someone holds it; returns the holder either way. */
  async claim(alertId: string, userId: string, tx: Queryable = this.db): Promise<ClaimRecord> {
    await tx.query(
      'INSERT INTO alert_claims (alert_id, user_id) VALUES ($1, $2) ON CONFLICT (alert_id) DO NOTHING',
      [alertId, userId],
    );
    const { rows } = await tx.query<ClaimRow>(`${SELECT_CLAIM} WHERE c.alert_id = $1`, [alertId]);
    return toClaim(rows[0]!);
  }

  async find(alertId: string, tx: Queryable = this.db): Promise<ClaimRecord | undefined> {
    const { rows } = await tx.query<ClaimRow>(`${SELECT_CLAIM} WHERE c.alert_id = $1`, [alertId]);
    return rows[0] ? toClaim(rows[0]) : undefined;
  }

  async release(alertId: string, tx: Queryable = this.db): Promise<void> {
    await tx.query('DELETE FROM alert_claims WHERE alert_id = $1', [alertId]);
  }

  async claimsOf(alertIds: string[]): Promise<ClaimRecord[]> {
    if (alertIds.length === 0) return [];
    const { rows } = await this.db.query<ClaimRow>(`${SELECT_CLAIM} WHERE c.alert_id = ANY($1::bigint[])`, [
      alertIds,
    ]);
    return rows.map(toClaim);
  }
}
