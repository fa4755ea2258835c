/** The hash-chained audit trail: entries, verification and signed checkpoints. */
import { type Static, Type } from 'typebox';
import { DateTime, Nullable, NullableString, StringEnum } from './schema.js';

/** Audit entries a page unless `limit` says otherwise. */
export const DEFAULT_AUDIT_PAGE = 100;

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: DateTime(),
  actorId: NullableString(),
  actorName: Type.String(),
  action: Type.String({ description: 'e.g. auth.login, subject.create, deployment.start, stats.export' }),
  targetType: Type.String(),
  targetId: Type.String(),
  details: Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true }),
  prevHash: Type.String({ description: 'hash of the row before (64 zeros for the first)' }),
  hash: Type.String({ description: 'SHA-256 of this row (canonical JSON) and prevHash' }),
});
export type AuditEntry = Static<typeof AuditEntry>;

/** `GET /audit`. */
export const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: 100 })),
    actor: Type.Optional(Type.String({ maxLength: 100, description: 'user id or username' })),
    targetType: Type.Optional(Type.String({ maxLength: 100 })),
    target: Type.Optional(Type.String({ maxLength: 200, description: 'target id' })),
    from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date or date-time (inclusive)' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date or date-time (exclusive)' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: DEFAULT_AUDIT_PAGE })),
    beforeId: Type.Optional(Type.Integer({ minimum: 1, description: 'entries older than this id (paging)' })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry),
  nextBeforeId: Nullable(Type.Integer(), { description: 'beforeId of the next page; null at the end' }),
});
export type AuditPage = Static<typeof AuditPage>;

const checkpointProperties = {
  headId: Type.Integer({ description: 'newest row when it was signed' }),
  headHash: Type.String({ description: "that row's hash" }),
  entries: Type.Integer({ description: 'rows up to and including it' }),
  at: DateTime(),
  keyId: Type.String({ description: 'names the audit key (first bytes of its SHA-256)' }),
  signature: Type.String({ description: 'hex HMAC-SHA-256 over version, head, entries and time' }),
};

/** A chain head signed with the server's audit key. */
export const AuditCheckpoint = Type.Object(checkpointProperties, {
  description:
    "A chain head signed with the server's audit key (HMAC-SHA-256), which the database never holds. Keep a copy: a chain that no longer holds it was truncated or rewritten.",
});
export type AuditCheckpoint = Static<typeof AuditCheckpoint>;

export const AUDIT_FAILURES = [
  'hash_mismatch',
  'chain_broken',
  'sequence_gap',
  'checkpoint_mismatch',
  'truncated',
  'checkpoint_invalid',
] as const;

/** `GET /audit/verify`. */
export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer({ description: 'rows checked before the first bad one (all when ok)' }),
  firstBad: Type.Optional(
    Type.Object(
      {
        id: Type.Integer({ description: 'the row; 0 with checkpoint_invalid' }),
        reason: StringEnum(AUDIT_FAILURES, {
          description:
            'checkpoint_mismatch: the signed row is not what was signed (rows up to it rewritten, removed or inserted); truncated: the chain ends before the signed row (newest rows deleted); checkpoint_invalid: the stored checkpoint was not signed with this audit key',
        }),
      },
      {
        description: 'absent when ok: the first altered row, or the row after a deleted or moved one',
      },
    ),
  ),
  checkpoint: Type.Optional(
    Type.Object(checkpointProperties, { description: 'the signed checkpoint the chain was held to' }),
  ),
});
export type AuditVerification = Static<typeof AuditVerification>;

/** `GET /audit/checkpoint`. */
export const AuditCheckpointResponse = Type.Object({
  checkpoint: Type.Union([AuditCheckpoint, Type.Null()]),
});
