import type { FastifyInstance } from 'fastify';
import {
  type EnrolmentService,
  MAX_IMAGE_BYTES,
  MAX_IMAGES_PER_SUBJECT,
  SUBJECT_FIELDS,
} from '../subjects/enrolment.service.js';
import { SUBJECT_CATEGORIES, SUBJECT_PRIORITIES } from '../subjects/subject.repository.js';
import type { WatchlistService } from '../watchlists/watchlist.service.js';
import { readMultipart } from './multipart.js';
import { AUTH_ERRORS, errorResponses, uuidParams } from './schemas.js';

export interface WatchlistRoutesOptions {
  watchlists: WatchlistService;
  enrolment: EnrolmentService;
}

const watchlistSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    description: { type: 'string' },
    subjectCount: { type: 'integer' },
    createdBy: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'name', 'description', 'subjectCount', 'createdAt', 'updatedAt'],
} as const;

const qualitySchema = { type: 'object', additionalProperties: { type: 'number' } } as const;

export const subjectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    watchlistId: { type: 'string', format: 'uuid' },
    label: { type: 'string' },
    category: { type: 'string', enum: [...SUBJECT_CATEGORIES] },
    priority: { type: 'string', enum: [...SUBJECT_PRIORITIES] },
    notes: { type: 'string' },
    source: { type: 'string' },
    legalBasis: { type: 'string' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    addedBy: { type: ['string', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    reason: {
      type: 'string',
      description: "Why the subject is on the list: the category's criteria they meet",
    },
    imageTakenOn: {
      type: ['string', 'null'],
      format: 'date',
      description: 'When the image was taken; source says where from',
    },
    addedByName: { type: ['string', 'null'] },
    approvedBy: { type: ['string', 'null'], description: 'Who approved the entry (never who added it)' },
    approvedByName: { type: ['string', 'null'] },
    approvedAt: { type: ['string', 'null'], format: 'date-time' },
    reviewBy: {
      type: ['string', 'null'],
      format: 'date',
      description: 'Left out of snapshots after this day',
    },
    images: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string', format: 'uuid' },
          quality: qualitySchema,
          width: { type: 'integer' },
          height: { type: 'integer' },
          mimeType: { type: 'string' },
        },
        required: ['id', 'quality'],
      },
    },
  },
  required: ['id', 'watchlistId', 'label', 'category', 'priority', 'images'],
} as const;

const watchlistBody = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' },
    description: { type: 'string', maxLength: 4000 },
  },
  additionalProperties: false,
} as const;

/** Watchlists and their subjects: watchlist managers and admins. */
export async function watchlistRoutes(app: FastifyInstance, options: WatchlistRoutesOptions): Promise<void> {
  const { watchlists, enrolment } = options;
  const managers = app.requireRoles('watchlist_manager', 'admin');

  app.post<{ Body: { name: string; description?: string } }>(
    '/watchlists',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'Create a watchlist',
        body: { ...watchlistBody, required: ['name'] },
        response: { 201: watchlistSchema, ...errorResponses(400, ...AUTH_ERRORS) },
      },
    },
    async (request, reply) => reply.status(201).send(await watchlists.create(request.user!, request.body)),
  );

  app.get(
    '/watchlists',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'List watchlists',
        response: { 200: { type: 'array', items: watchlistSchema }, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => watchlists.list(),
  );

  app.get<{ Params: { id: string } }>(
    '/watchlists/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'One watchlist',
        params: uuidParams,
        response: { 200: watchlistSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => watchlists.get(request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; description?: string } }>(
    '/watchlists/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'Rename a watchlist or change its description',
        params: uuidParams,
        body: { ...watchlistBody, minProperties: 1 },
        response: { 200: watchlistSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => watchlists.update(request.user!, request.params.id, request.body),
  );

  app.delete<{ Params: { id: string } }>(
    '/watchlists/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'Delete a watchlist with its subjects, images and embeddings',
        params: uuidParams,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409),
        },
      },
    },
    async (request, reply) => {
      await watchlists.delete(request.user!, request.params.id);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: { id: string } }>(
    '/watchlists/:id/subjects',
    {
      onRequest: managers,
      // The multipart body is read and checked in the handler (readMultipart, parseSubjectFields);
      // the schema below documents it for OpenAPI.
      validatorCompiler: ({ httpPart }) =>
        httpPart === 'body' ? () => true : (value: unknown) => isUuidParams(value),
      schema: {
        tags: ['subjects'],
        summary: 'Enrol a subject: one or more images and their label',
        description: `Each image must show exactly one usable face. A 422 names the first failed image's code and lists every failed image in error.images; the same image twice in a watchlist is 409 duplicate_image. Up to ${MAX_IMAGES_PER_SUBJECT} images of at most ${MAX_IMAGE_BYTES} bytes.`,
        consumes: ['multipart/form-data'],
        params: uuidParams,
        body: {
          type: 'object',
          properties: {
            image: { type: 'array', items: { type: 'string', format: 'binary' } },
            label: { type: 'string', maxLength: 200 },
            category: { type: 'string', enum: [...SUBJECT_CATEGORIES] },
            priority: { type: 'string', enum: [...SUBJECT_PRIORITIES] },
            notes: { type: 'string' },
            source: { type: 'string' },
            legal_basis: { type: 'string' },
            expires_at: { type: 'string', format: 'date-time' },
            reason: {
              type: 'string',
              description: "why the subject is on the list: the category's criteria",
            },
            image_taken_on: { type: 'string', format: 'date' },
            review_by: { type: 'string', format: 'date', description: 'default: 90 days from today' },
          },
          required: ['image', 'label', 'category', 'priority'],
        },
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string', format: 'uuid' },
              images: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { id: { type: 'string', format: 'uuid' }, quality: qualitySchema },
                  required: ['id', 'quality'],
                },
              },
            },
            required: ['id', 'images'],
          },
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409, 413, 415, 422),
          503: { description: 'No face engine in this process', ...(errorResponses(503)[503] as object) },
        },
      },
    },
    async (request, reply) => {
      const upload = await readMultipart(request, {
        fileFields: ['image'],
        textFields: [...SUBJECT_FIELDS],
        maxFiles: MAX_IMAGES_PER_SUBJECT,
        fileSize: MAX_IMAGE_BYTES,
      });
      const result = await enrolment.enrol(request.user!, request.params.id, upload.fields, upload.files);
      return reply.status(201).send(result);
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; offset?: number; q?: string } }>(
    '/watchlists/:id/subjects',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: "A watchlist's subjects (no images: fetch them one by one)",
        params: uuidParams,
        querystring: {
          type: 'object',
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
            q: { type: 'string', minLength: 1, maxLength: 200, description: 'Label or notes contain this' },
          },
          additionalProperties: false,
        },
        response: {
          200: { type: 'array', items: subjectSchema },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request) =>
      enrolment.list(request.params.id, {
        limit: request.query.limit ?? 100,
        offset: request.query.offset ?? 0,
        q: request.query.q,
      }),
  );

  app.get<{ Params: { id: string } }>(
    '/subjects/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: 'One subject',
        params: uuidParams,
        response: { 200: subjectSchema, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => enrolment.get(request.params.id),
  );

  app.delete<{ Params: { id: string } }>(
    '/subjects/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: 'Delete a subject with their images and embeddings',
        params: uuidParams,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      await enrolment.delete(request.user!, request.params.id);
      // The stream's copies carry the subject's label: they go now, not at the stream's max age.
      await app
        .eraseStreamedAlertsOf(request.params.id)
        .catch((error: unknown) =>
          request.log.warn({ err: error }, 'erasing the subject’s alerts from the stream failed'),
        );
      return reply.status(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/reference-images/:id',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin', 'operator', 'officer'),
      schema: {
        tags: ['subjects'],
        summary: 'A reference image (decrypted); every view is audited',
        description:
          'Operators see only the references of subjects on the lists of deployments they operate.',
        params: uuidParams,
        produces: ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'],
        response: {
          200: { description: 'The image bytes', type: 'string', format: 'binary' },
          ...errorResponses(400, ...AUTH_ERRORS, 404),
        },
      },
    },
    async (request, reply) => {
      const image = await enrolment.viewImage(request.user!, request.params.id);
      return reply
        .header('content-type', image.mimeType)
        .header('cache-control', 'no-store')
        .header('content-disposition', 'inline')
        .send(image.data);
    },
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isUuidParams(value: unknown): boolean | { error: Error } {
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof id === 'string' && UUID.test(id)) return true;
  return { error: Object.assign(new Error('params/id must be a UUID'), { validation: [], statusCode: 400 }) };
}
