import pgvector from 'pgvector';

/** The subset of a SQL connection every repository uses; PostgreSQL and PGlite both provide it. */
export interface Queryable {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<{ rows: T[]; rowCount: number }>;
}

export interface Database extends Queryable {
  /** `postgres` for a server reached by DATABASE_URL, `pglite` for the embedded WebAssembly build. */
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A float array as pgvector's text form, for a `$n::vector` parameter. */
export function toVectorParam(values: ArrayLike<number>): string {
  return pgvector.toSql(Array.from(values));
}

/** pgvector's text form back to numbers. */
export function fromVectorText(text: string): number[] {
  return pgvector.fromSql(text) as number[];
}
