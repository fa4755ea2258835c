/** Governance actions: retention on demand and threshold changes. */
import { type Static, Type } from 'typebox';
import { DateTime, Uuid } from './schema.js';

const Count = () => Type.Integer({ minimum: 0 });
const EntriesOf = Type.Object({ deploymentId: Uuid(), entries: Count() });

/** What one retention run deleted (counts only). */
export const RetentionReport = Type.Object(
  {
    ranAt: DateTime(),
    skipped: Type.Boolean({ description: 'another process was running retention; nothing done' }),
    alertCutoff: DateTime({ description: 'alerts captured before this were deleted' }),
    snapshots: Type.Array(EntriesOf),
    alerts: Type.Array(
      Type.Object({
        deploymentId: Uuid(),
        alerts: Count(),
        crops: Count(),
        adjudications: Count(),
        dispatches: Count(),
      }),
    ),
    subjects: Type.Array(
      Type.Object({
        subjectId: Uuid(),
        watchlistId: Uuid(),
        referenceImages: Count(),
        embeddings: Count(),
        snapshotEntries: Count(),
      }),
    ),
    useLog: Type.Optional(
      Type.Array(EntriesOf, { description: 'use log entries past VIGIL_USE_LOG_RETENTION_DAYS, deleted' }),
    ),
    compacted: Type.Array(Type.String(), { description: 'tables rewritten with VACUUM FULL' }),
    notCompacted: Type.Array(Type.String(), {
      description: 'tables that lost rows but this database role does not own, so could not rewrite',
    }),
  },
  { description: 'What one retention run deleted (counts only)' },
);
export type RetentionReport = Static<typeof RetentionReport>;

/** `PATCH /deployments/:id/threshold`. */
export const ThresholdChangeInput = Type.Object(
  {
    threshold: Type.Number({ maximum: 1 }),
    reason: Type.Optional(Type.String({ maxLength: 1000, description: 'why; kept on the audit trail' })),
  },
  { additionalProperties: false },
);
export type ThresholdChangeInput = Static<typeof ThresholdChangeInput>;

export const ThresholdChange = Type.Object({
  deploymentId: Uuid(),
  previousThreshold: Type.Number(),
  threshold: Type.Number(),
});
export type ThresholdChange = Static<typeof ThresholdChange>;
