import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  AUTH_ERRORS,
  EnrolmentPreview,
  EnrolmentResult,
  errorResponses,
  ImageBytes,
  NoContent,
  Subject,
  SubjectEnrolmentForm,
  SubjectImagesForm,
  SubjectList,
  SubjectListQuery,
  UuidParams,
  Watchlist,
  WatchlistChanges,
  WatchlistInput,
  WatchlistList,
} from '@vigil/contract';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import {
  type EnrolmentService,
  MAX_IMAGE_BYTES,
  MAX_IMAGES_PER_SUBJECT,
  SUBJECT_FIELDS,
} from '../subjects/enrolment.service.js';
import type { WatchlistService } from '../watchlists/watchlist.service.js';
import { readMultipart } from './multipart.js';

export interface WatchlistRoutesOptions {
  watchlists: WatchlistService;
  enrolment: EnrolmentService;
}

/** Watchlists and their subjects: watchlist managers and admins. */
export async function watchlistRoutes(
  fastify: FastifyInstance,
  options: WatchlistRoutesOptions,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { watchlists, enrolment } = options;
  const managers = app.requireRoles('watchlist_manager', 'admin');

  app.post(
    '/watchlists',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'Create a watchlist',
        body: WatchlistInput,
        response: { 201: Watchlist, ...errorResponses(400, ...AUTH_ERRORS) },
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
        response: { 200: WatchlistList, ...errorResponses(...AUTH_ERRORS) },
      },
    },
    async () => watchlists.list(),
  );

  app.get(
    '/watchlists/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'One watchlist',
        params: UuidParams,
        response: { 200: Watchlist, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => watchlists.get(request.params.id),
  );

  app.patch(
    '/watchlists/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'Rename a watchlist or change its description',
        params: UuidParams,
        body: WatchlistChanges,
        response: { 200: Watchlist, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => watchlists.update(request.user!, request.params.id, request.body),
  );

  app.delete(
    '/watchlists/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['watchlists'],
        summary: 'Delete a watchlist with its subjects, images and embeddings',
        params: UuidParams,
        response: {
          204: NoContent('Deleted'),
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409),
        },
      },
    },
    async (request, reply) => {
      await watchlists.delete(request.user!, request.params.id);
      return reply.status(204).send();
    },
  );

  app.post(
    '/watchlists/:id/subjects',
    {
      onRequest: managers,
      validatorCompiler: multipartBody,
      schema: {
        tags: ['subjects'],
        summary: 'Enrol a subject: one or more images and their label',
        description: `Each image must show exactly one usable face. A 422 names the first failed image's code and lists every failed image in error.images; the same image twice in a watchlist is 409 duplicate_image. Up to ${MAX_IMAGES_PER_SUBJECT} images of at most ${MAX_IMAGE_BYTES} bytes.`,
        consumes: ['multipart/form-data'],
        params: UuidParams,
        body: SubjectEnrolmentForm,
        response: {
          201: EnrolmentResult,
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409, 413, 415, 422, 503),
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

  app.post(
    '/watchlists/:id/subjects/preview',
    {
      onRequest: managers,
      validatorCompiler: multipartBody,
      schema: {
        tags: ['subjects'],
        summary: 'What enrolment would decide for each image, before enrolling: nothing is stored',
        description: `The same checks as POST /watchlists/{id}/subjects (duplicates in this watchlist, size, format, one usable face), each image's verdict in words and the aligned face it would use as a small JPEG data URL. No row, file or log line is written. Up to ${MAX_IMAGES_PER_SUBJECT} images of at most ${MAX_IMAGE_BYTES} bytes.`,
        consumes: ['multipart/form-data'],
        params: UuidParams,
        body: SubjectImagesForm,
        response: {
          200: EnrolmentPreview,
          ...errorResponses(400, ...AUTH_ERRORS, 404, 413, 415, 422, 503),
        },
      },
    },
    async (request) => {
      const upload = await readMultipart(request, {
        fileFields: ['image'],
        // The enrolment form's fields may come along (the console sends the form); they are not read.
        textFields: [...SUBJECT_FIELDS],
        maxFiles: MAX_IMAGES_PER_SUBJECT,
        fileSize: MAX_IMAGE_BYTES,
      });
      return { images: await enrolment.preview(request.params.id, upload.files) };
    },
  );

  app.get(
    '/watchlists/:id/subjects',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: "A watchlist's subjects (no images: fetch them one by one)",
        params: UuidParams,
        querystring: SubjectListQuery,
        response: {
          200: SubjectList,
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

  app.post(
    '/subjects/:id/images',
    {
      onRequest: managers,
      validatorCompiler: multipartBody,
      schema: {
        tags: ['subjects'],
        summary: 'Add photos to an enrolled subject',
        description: `The same checks and answers as enrolment, all photos or none; the entry's approval is withdrawn. At most ${MAX_IMAGES_PER_SUBJECT} photos per subject in all.`,
        consumes: ['multipart/form-data'],
        params: UuidParams,
        body: SubjectImagesForm,
        response: {
          201: EnrolmentResult,
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409, 413, 415, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const upload = await readMultipart(request, {
        fileFields: ['image'],
        textFields: [],
        maxFiles: MAX_IMAGES_PER_SUBJECT,
        fileSize: MAX_IMAGE_BYTES,
      });
      return reply
        .status(201)
        .send(await enrolment.addImages(request.user!, request.params.id, upload.files));
    },
  );

  app.get(
    '/subjects/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: 'One subject',
        params: UuidParams,
        response: { 200: Subject, ...errorResponses(400, ...AUTH_ERRORS, 404) },
      },
    },
    async (request) => enrolment.get(request.params.id),
  );

  app.delete(
    '/subjects/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: 'Delete a subject with their images and embeddings',
        params: UuidParams,
        response: {
          204: NoContent('Deleted'),
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

  app.delete(
    '/reference-images/:id',
    {
      onRequest: managers,
      schema: {
        tags: ['subjects'],
        summary: "Remove one of a subject's photos, with its templates",
        description:
          "A subject keeps at least one photo (409 last_image: delete the subject instead). The entry's approval is withdrawn; a running deployment's snapshot keeps its copy until it stops.",
        params: UuidParams,
        response: {
          204: NoContent('Removed'),
          ...errorResponses(400, ...AUTH_ERRORS, 404, 409),
        },
      },
    },
    async (request, reply) => {
      await enrolment.removeImage(request.user!, request.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/reference-images/:id',
    {
      onRequest: app.requireRoles('watchlist_manager', 'admin', 'operator', 'officer'),
      schema: {
        tags: ['subjects'],
        summary: 'A reference image (decrypted); every view is audited',
        description:
          'Operators see only the references of subjects on the lists of deployments they operate.',
        params: UuidParams,
        produces: ['image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'],
        response: {
          200: ImageBytes,
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

/**
 * Multipart bodies are read and checked in the handler (readMultipart, parseSubjectFields); their
 * schema documents them for OpenAPI. Only the `:id` parameter is validated here.
 */
const multipartBody: FastifySchemaCompiler<unknown> = ({ httpPart }) =>
  httpPart === 'body' ? () => true : (value: unknown) => isUuidParams(value);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isUuidParams(value: unknown): boolean | { error: Error } {
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof id === 'string' && UUID.test(id)) return true;
  return { error: Object.assign(new Error('params/id must be a UUID'), { validation: [], statusCode: 400 }) };
}
