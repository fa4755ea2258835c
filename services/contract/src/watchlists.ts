/** Watchlists and their subjects. */
import { type Static, Type } from 'typebox';
import {
  DateTime,
  NonBlank,
  Nullable,
  NullableDateTime,
  NullableString,
  StringEnum,
  Uuid,
} from './schema.js';
import { SUBJECT_CATEGORIES, SUBJECT_PRIORITIES } from './values.js';

export const Watchlist = Type.Object({
  id: Uuid(),
  name: Type.String(),
  description: Type.String(),
  subjectCount: Type.Integer(),
  createdBy: Type.Optional(NullableString()),
  createdAt: DateTime(),
  updatedAt: DateTime(),
});
export type Watchlist = Static<typeof Watchlist>;

export const WatchlistList = Type.Array(Watchlist);

const watchlistFields = { name: NonBlank(200), description: Type.String({ maxLength: 4000 }) };

/** `POST /watchlists`. */
export const WatchlistInput = Type.Object(
  { name: watchlistFields.name, description: Type.Optional(watchlistFields.description) },
  { additionalProperties: false },
);
export type WatchlistInput = Static<typeof WatchlistInput>;

/** `PATCH /watchlists/:id`: at least one field. */
export const WatchlistChanges = Type.Partial(Type.Object(watchlistFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type WatchlistChanges = Static<typeof WatchlistChanges>;

/** An image's quality measures by name. */
export const ImageQuality = Type.Unsafe<Record<string, number>>({
  type: 'object',
  additionalProperties: { type: 'number' },
});

const NullableDate = (options: Record<string, unknown> = {}) =>
  Nullable(Type.String({ format: 'date' }), options);

export const Subject = Type.Object({
  id: Uuid(),
  watchlistId: Uuid(),
  label: Type.String(),
  category: StringEnum(SUBJECT_CATEGORIES),
  priority: StringEnum(SUBJECT_PRIORITIES),
  notes: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  legalBasis: Type.Optional(Type.String()),
  expiresAt: Type.Optional(NullableDateTime()),
  addedBy: Type.Optional(NullableString()),
  createdAt: Type.Optional(DateTime()),
  reason: Type.Optional(
    Type.String({ description: "Why the subject is on the list: the category's criteria they meet" }),
  ),
  imageTakenOn: Type.Optional(
    NullableDate({ description: 'When the image was taken; source says where from' }),
  ),
  addedByName: Type.Optional(NullableString()),
  approvedBy: Type.Optional(NullableString({ description: 'Who approved the entry (never who added it)' })),
  approvedByName: Type.Optional(NullableString()),
  approvedAt: Type.Optional(NullableDateTime()),
  reviewBy: Type.Optional(NullableDate({ description: 'Left out of snapshots after this day' })),
  images: Type.Array(
    Type.Object({
      id: Uuid(),
      quality: ImageQuality,
      width: Type.Optional(Type.Integer()),
      height: Type.Optional(Type.Integer()),
      mimeType: Type.Optional(Type.String()),
    }),
  ),
});
export type Subject = Static<typeof Subject>;

export const SubjectList = Type.Array(Subject);

/** `GET /watchlists/:id/subjects`. */
export const SubjectListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Label or notes contain this' }),
    ),
  },
  { additionalProperties: false },
);
export type SubjectListQuery = Static<typeof SubjectListQuery>;

/**
 * `POST /watchlists/:id/subjects`, multipart: documents the form for OpenAPI; the handler reads and
 * checks it (fastify does not validate multipart bodies against it).
 */
export const SubjectEnrolmentForm = Type.Object({
  image: Type.Array(Type.String({ format: 'binary' })),
  label: Type.String({ maxLength: 200 }),
  category: StringEnum(SUBJECT_CATEGORIES),
  priority: StringEnum(SUBJECT_PRIORITIES),
  notes: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  legal_basis: Type.Optional(Type.String()),
  expires_at: Type.Optional(DateTime()),
  reason: Type.Optional(
    Type.String({ description: "why the subject is on the list: the category's criteria" }),
  ),
  image_taken_on: Type.Optional(Type.String({ format: 'date' })),
  review_by: Type.Optional(Type.String({ format: 'date', description: 'default: 90 days from today' })),
});

/** What an enrolment stored: the subject and each image's quality. */
export const EnrolmentResult = Type.Object({
  id: Uuid(),
  images: Type.Array(Type.Object({ id: Uuid(), quality: ImageQuality })),
});
export type EnrolmentResult = Static<typeof EnrolmentResult>;

/** A reference image's bytes. */
export const ImageBytes = Type.Unsafe<Uint8Array>({
  description: 'The image bytes',
  type: 'string',
  format: 'binary',
});

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });

/** `PATCH /subjects/:id`: an entry's provenance and what it says; at least one field. */
export const SubjectChanges = Type.Object(
  {
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    source: Type.Optional(Type.String({ maxLength: 500 })),
    imageTakenOn: Type.Optional(Nullable(Day)),
    reviewBy: Type.Optional(Day),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    category: Type.Optional(StringEnum(SUBJECT_CATEGORIES)),
    priority: Type.Optional(StringEnum(SUBJECT_PRIORITIES)),
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type SubjectChanges = Static<typeof SubjectChanges>;

/** `POST /watchlists/:id/subjects/preview` and `POST /subjects/:id/images`, multipart: the photos. */
export const SubjectImagesForm = Type.Object({
  image: Type.Array(Type.String({ format: 'binary' })),
});

/** What enrolment would decide for each image, before enrolling; nothing is stored. */
export const EnrolmentPreview = Type.Object({
  images: Type.Array(
    Type.Object({
      index: Type.Integer(),
      filename: Type.String(),
      ok: Type.Boolean({ description: 'Enrolment would accept this image' }),
      code: Type.String({
        description: "`ok`, or enrolment's 422/409 code (`no_face`, `multiple_faces`, ...)",
      }),
      message: Type.String(),
      verdict: Type.String({ description: 'The verdict in words' }),
      face: NullableString({
        description: 'data:image/jpeg;base64 of the aligned face; null when none was found',
      }),
      quality: Type.Optional(ImageQuality),
    }),
  ),
});
export type EnrolmentPreview = Static<typeof EnrolmentPreview>;

/** `GET /subjects/:id/history`. */
export const SubjectHistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);
export type SubjectHistoryQuery = Static<typeof SubjectHistoryQuery>;

/** What happened to a subject, in words, newest first. */
export const SubjectHistory = Type.Object({
  entries: Type.Array(
    Type.Object({
      at: DateTime(),
      kind: StringEnum([
        'created',
        'edited',
        'photos',
        'approved',
        'deleted',
        'expired',
        'listed',
        'alert',
        'other',
      ] as const),
      actor: NullableString({ description: 'Username; null for the system' }),
      text: Type.String({ description: 'What happened, in words' }),
      changes: Type.Optional(
        Type.Array(Type.Object({ field: Type.String(), from: Type.String(), to: Type.String() })),
      ),
    }),
  ),
  nextOffset: Nullable(Type.Integer(), { description: 'The next (older) page; null on the last' }),
  alerts: Type.Object({
    total: Type.Integer(),
    outcomes: Type.Record(Type.String(), Type.Integer()),
    text: Type.String(),
  }),
});
export type SubjectHistory = Static<typeof SubjectHistory>;
