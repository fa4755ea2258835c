import { VigilError } from '../errors.js';

/**
 * The connection under a transaction broke (backend terminated, server restarted, socket reset):
 * the transaction did not commit, or, when it broke during COMMIT, its outcome is unknown. The
 * connection is discarded and the pool opens a new one; retrying the whole transaction is safe
 * where the work is idempotent.
 */
export class DatabaseConnectionError extends VigilError {
  override readonly name = 'DatabaseConnectionError';
  constructor(cause: unknown) {
    super('db_connection_lost', 'the database connection was lost during a transaction', 503, { cause });
  }
}
