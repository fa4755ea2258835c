/** Bulk imports of subjects into a watchlist, with progress. */
import { type Static, Type } from 'typebox';
import { DateTime, NullableDateTime, NullableString, StringEnum, Uuid } from './schema.js';

/** An import's progress and per-row failures. */
export const ImportProgress = Type.Object({
  id: Uuid(),
  watchlistId: Uuid(),
  status: StringEnum(['running', 'done', 'failed']),
  total: Type.Integer(),
  processed: Type.Integer(),
  enrolled: Type.Integer(),
  failed: Type.Integer(),
  errors: Type.Optional(
    Type.Array(
      Type.Object({
        row: Type.Integer(),
        label: Type.Optional(Type.String()),
        code: Type.String(),
        message: Type.String(),
      }),
    ),
  ),
  error: Type.Optional(NullableString()),
  createdAt: Type.Optional(DateTime()),
  finishedAt: Type.Optional(NullableDateTime()),
});
export type ImportProgress = Static<typeof ImportProgress>;

export const ImportProgressList = Type.Array(ImportProgress);

/**
 * `POST /watchlists/:id/imports`: multipart (`archive`, `labels`) or JSON (`folder`, `labels`).
 * Documents the body for OpenAPI; the handler reads and checks it.
 */
export const ImportRequest = Type.Partial(
  Type.Object({
    archive: Type.String({ format: 'binary' }),
    labels: Type.String({ description: 'CSV file (multipart) or a path inside the folder (JSON)' }),
    folder: Type.String(),
  }),
);
export type ImportRequest = Static<typeof ImportRequest>;
