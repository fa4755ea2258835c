import type {} from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  errorResponses,
  ImportProgress,
  ImportProgressList,
  ImportRequest,
  UuidParams,
} from '@vigil/contract';
import { ForbiddenError, ValidationError } from '@vigil/core';
import type { FastifyInstance } from 'fastify';
import { type ImportService, MAX_CONCURRENT_IMPORTS, MAX_IMPORT_ROWS } from '../imports/import.service.js';
import { isUuid } from '../uuid.js';
import { readMultipart } from './multipart.js';

export interface ImportRoutesOptions {
  imports: ImportService;
}

/** Largest ZIP accepted by upload; bigger imports go through a server folder. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

/** Bulk imports of subjects into a watchlist, with progress. */
export async function importRoutes(fastify: FastifyInstance, options: ImportRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { imports } = options;
  const managers = app.requireRoles('watchlist_manager', 'admin');

  app.post(
    '/watchlists/:id/imports',
    {
      onRequest: managers,
      validatorCompiler: ({ httpPart }) =>
        httpPart === 'body' ? () => true : (value: unknown) => checkParams(value),
      schema: {
        tags: ['subjects'],
        summary: 'Bulk import: a ZIP of images with a CSV of labels, enrolled in the background',
        description: `multipart/form-data with \`archive\` (a ZIP, at most ${MAX_ARCHIVE_BYTES} bytes) and \`labels\` (CSV; or labels.csv inside the ZIP), or JSON {"folder","labels"?} naming a folder on the server (admins only). CSV header: label,category,priority,file[,file2...] with optional notes,source,legal_basis,expires_at; several files in one cell separated by ';'. At most ${MAX_IMPORT_ROWS} rows. Entries are bounded by the bytes they really inflate to (an image past the image limit fails its row with image_too_large); the folder import reads nothing outside its folder, through .. or a symlink. At most ${MAX_CONCURRENT_IMPORTS} imports run at once (429 too_many_imports). Answers 202 with the import's progress record; poll GET /imports/{id}.`,
        consumes: ['multipart/form-data', 'application/json'],
        params: UuidParams,
        body: ImportRequest,
        response: { 202: ImportProgress, ...errorResponses(400, ...AUTH_ERRORS, 404, 413, 415, 429) },
      },
    },
    async (request, reply) => {
      const user = request.user!;
      if (request.isMultipart()) {
        const upload = await readMultipart(request, {
          fileFields: ['archive', 'labels'],
          textFields: [],
          maxFiles: 2,
          fileSize: MAX_ARCHIVE_BYTES,
          tooLargeCode: 'payload_too_large',
        });
        const archive = upload.files.find((f) => f.fieldname === 'archive');
        if (!archive)
          throw new ValidationError('send the images as an `archive` ZIP file', 'invalid_archive');
        const labels = upload.files.find((f) => f.fieldname === 'labels')?.data.toString('utf8');
        return reply.status(202).send(await imports.fromZip(user, request.params.id, archive.data, labels));
      }
      const body = request.body;
      if (!body || typeof body !== 'object' || typeof body.folder !== 'string' || body.folder === '')
        throw new ValidationError('send multipart with an archive, or JSON {"folder"}');
      if (body.labels !== undefined && typeof body.labels !== 'string')
        throw new ValidationError('labels must be a path');
      // Reading the server's disk is an administrator's call.
      if (user.role !== 'admin') throw new ForbiddenError('only an admin may import from a server folder');
      return reply
        .status(202)
        .send(await imports.fromFolder(user, request.params.id, body.folder, body.labels));
    },
  );

  app.get(
    '/watchlists/:id/imports',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: "A watchlist's recent imports",
        params: UuidParams,
        response: {
          200: ImportProgressList,
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) => imports.list(request.params.id),
  );

  app.get(
    '/imports/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: "An import's progress and per-row failures",
        params: UuidParams,
        response: { 200: ImportProgress, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => imports.get(request.params.id),
  );
}

function checkParams(value: unknown): boolean | { error: Error } {
  if (isUuid((value as { id?: unknown } | null)?.id)) return true;
  return { error: Object.assign(new Error('params/id must be a UUID'), { validation: [], statusCode: 400 }) };
}
