import { waitFor } from '@vigil/core/testing';
import { bearer, type TestApp } from './test-app.js';

/** Polls `GET /imports/:id` until the import is no longer running; its final progress record. */
export function importFinished(t: TestApp, id: string) {
  return waitFor(
    async () => {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/imports/${id}`,
        headers: bearer(t.tokens.admin),
      });
      return response.json().status !== 'running' ? response.json() : undefined;
    },
    60_000,
    100,
  );
}
