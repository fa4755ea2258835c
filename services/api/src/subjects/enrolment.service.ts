import { createHash } from 'node:crypto';
import {
  type AuditRepository,
  ConflictError,
  type Database,
  type DataCipher,
  ImageError,
  isVigilError,
  NotFoundError,
  type Queryable,
  referenceImageContext,
  storedTemplate,
  type TemplateKeys,
  ValidationError,
} from '@vigil/core';
import {
  type AnalysedFace,
  assessEnrolmentImage,
  type EnrolmentCheck,
  type FaceEngine,
} from '@vigil/face-runtime';
import sharp from 'sharp';
import type { AuthUser } from '../auth/roles.js';
import { EngineUnavailableError, EnrolmentRejectedError, type ImageFailure } from '../errors.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import type { WatchlistRepository } from '../watchlists/watchlist.repository.js';
import { verdictWords } from './enrolment-verdict.js';
import { stripImageMetadata } from './image-metadata.js';
import { sniffImageType } from './image-type.js';
import { defaultReviewBy, parseDay } from './provenance.js';
import {
  SUBJECT_CATEGORIES,
  SUBJECT_PRIORITIES,
  type Subject,
  type SubjectCategory,
  type SubjectPriority,
  type SubjectRepository,
} from './subject.repository.js';

/** What enrolment needs of the face engine (the real `FaceEngine` of @vigil/detector). */
export type EnrolmentEngine = Pick<FaceEngine, 'analyse' | 'profile'>;

/** Photos per subject: several angles help; dozens are a mistake or an attack. */
export const MAX_IMAGES_PER_SUBJECT = 10;
/** Bytes per uploaded image: a 40 MP JPEG is well under this. */
export const MAX_IMAGE_BYTES = 15 * 1024 * 1024;
const MAX_NOTES = 4000;
const MAX_SHORT_TEXT = 500;

export interface UploadedImage {
  filename: string;
  data: Buffer;
}

/** An entry's text fields by the names a form (enrolment) and a CSV header (imports) give them. */
export const SUBJECT_FIELDS = [
  'label',
  'category',
  'priority',
  'notes',
  'source',
  'legal_basis',
  'expires_at',
  'reason',
  'image_taken_on',
  'review_by',
] as const;

/** The text fields of an enrolment, as multipart or CSV gives them (strings, snake_case). */
export type SubjectFields = Partial<Record<(typeof SUBJECT_FIELDS)[number], string>>;

export interface ParsedSubjectFields {
  label: string;
  category: SubjectCategory;
  priority: SubjectPriority;
  notes: string;
  source: string;
  legalBasis: string;
  expiresAt: string | null;
  reason: string;
  imageTakenOn: string | null;
  reviewBy: string;
}

export interface EnrolmentResult {
  id: string;
  images: { id: string; quality: Record<string, number> }[];
}

/** One image of a preview: enrolment's verdict, in words, with the aligned face it judged. */
export interface PreviewedImage {
  index: number;
  filename: string;
  ok: boolean;
  /** `ok`, or the code enrolment would refuse the image with. */
  code: string;
  message: string;
  /** The verdict in a line a watchlist manager reads ("Good: one clear face", "No face found"). */
  verdict: string;
  /** `data:image/jpeg;base64,` of the aligned face, or null when no face was found. */
  face: string | null;
  quality?: Record<string, number>;
}

/** An image that passed enrolment's checks. */
interface AcceptedImage {
  ok: true;
  hash: string;
  /** What is stored: the image without its metadata (EXIF, GPS). */
  stored: Buffer;
  width: number;
  height: number;
  quality: Record<string, number>;
  face: AnalysedFace;
}

/** An image that failed, with what the face gate saw (for the preview's words and thumbnail). */
interface Rejected {
  ok: false;
  failure: ImageFailure;
  face?: AnalysedFace;
  faces: number;
  failed: EnrolmentCheck[];
}

type CheckedImage = AcceptedImage | Rejected;

/** JPEG quality of a preview's face thumbnail: small, and never stored. */
const THUMBNAIL_QUALITY = 80;

async function faceThumbnail(crop: Uint8Array, width: number, height: number): Promise<string> {
  const jpeg = await sharp(crop, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: THUMBNAIL_QUALITY })
    .toBuffer();
  try {
    return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  } finally {
    jpeg.fill(0);
  }
}

/** Two uploads of the same image racing: the unique (watchlist, hash) index decides. */
function duplicateRace(error: unknown): unknown {
  if ((error as { code?: string }).code !== '23505') return error;
  return new EnrolmentRejectedError([
    {
      index: 0,
      filename: '',
      code: 'duplicate_image',
      message: 'this image is already enrolled in the watchlist',
    },
  ]);
}

/** Zeroes an accepted image's bytes, crop and embedding once stored or refused. */
function forget(item: AcceptedImage): void {
  item.face.embedding?.fill(0);
  item.face.crop.fill(0);
  item.stored.fill(0);
}

// C0 controls other than tab, newline and carriage return.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function text(fields: SubjectFields, key: keyof SubjectFields, max: number, required: boolean): string {
  const value = (fields[key] ?? '').trim();
  if (required && value === '') throw new ValidationError(`${key} is required`, `invalid_${key}`);
  if (value.length > max)
    throw new ValidationError(`${key} may have at most ${max} characters`, `invalid_${key}`);
  if (CONTROL.test(value)) throw new ValidationError(`${key} holds control characters`, `invalid_${key}`);
  return value;
}

/** Checks and normalises an enrolment's text fields; throws ValidationError (400) naming the field. */
export function parseSubjectFields(fields: SubjectFields, now = new Date()): ParsedSubjectFields {
  const label = text(fields, 'label', 200, true);
  const category = (fields.category ?? '').trim().toLowerCase();
  if (!(SUBJECT_CATEGORIES as readonly string[]).includes(category))
    throw new ValidationError(`category must be one of ${SUBJECT_CATEGORIES.join(', ')}`, 'invalid_category');
  const priority = (fields.priority ?? '').trim().toLowerCase();
  if (!(SUBJECT_PRIORITIES as readonly string[]).includes(priority))
    throw new ValidationError(`priority must be one of ${SUBJECT_PRIORITIES.join(', ')}`, 'invalid_priority');
  let expiresAt: string | null = null;
  const expiry = (fields.expires_at ?? '').trim();
  if (expiry) {
    const date = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(expiry)
      ? new Date(expiry)
      : null;
    if (!date || Number.isNaN(date.getTime()))
      throw new ValidationError('expires_at must be an ISO 8601 date', 'invalid_expires_at');
    if (date.getTime() <= now.getTime())
      throw new ValidationError('expires_at must be in the future', 'invalid_expires_at');
    expiresAt = date.toISOString();
  }
  return {
    label,
    category: category as SubjectCategory,
    priority: priority as SubjectPriority,
    notes: text(fields, 'notes', MAX_NOTES, false),
    source: text(fields, 'source', MAX_SHORT_TEXT, false),
    legalBasis: text(fields, 'legal_basis', MAX_SHORT_TEXT, false),
    expiresAt,
    reason: text(fields, 'reason', MAX_SHORT_TEXT, false),
    imageTakenOn: parseDay(fields.image_taken_on, 'image_taken_on', { notAfter: now }),
    reviewBy: parseDay(fields.review_by, 'review_by', { after: now }) ?? defaultReviewBy(now),
  };
}

function roundQuality(quality: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(quality))
    if (typeof value === 'number') out[key] = Math.round(value * 1000) / 1000;
  return out;
}

/**
 * Enrols subjects: every image decoded, checked for exactly one usable face and embedded by the
 * face engine, sealed with the data cipher, and stored with the subject in one transaction, so a
 * subject with any failed image leaves no row at all.
 */
export class EnrolmentService {
  readonly #db: Database;
  readonly #subjects: SubjectRepository;
  readonly #watchlists: WatchlistRepository;
  readonly #audit: AuditRepository;

  constructor(
    repositories: Pick<Repositories, 'db' | 'subjects' | 'watchlists' | 'audit'>,
    private readonly cipher: DataCipher,
    private readonly engine: EnrolmentEngine | undefined,
    /** Rotates templates and keys content hashes; without it both are stored as before (tests). */
    private readonly templates?: TemplateKeys,
  ) {
    this.#db = repositories.db;
    this.#subjects = repositories.subjects;
    this.#watchlists = repositories.watchlists;
    this.#audit = repositories.audit;
  }

  async enrol(
    actor: AuthUser,
    watchlistId: string,
    fields: SubjectFields,
    images: UploadedImage[],
  ): Promise<EnrolmentResult> {
    if (!isUuid(watchlistId) || !(await this.#watchlists.find(watchlistId)))
      throw new NotFoundError('watchlist');
    const parsed = parseSubjectFields(fields);
    if (images.length === 0) throw new ValidationError('at least one image is required', 'missing_image');
    if (images.length > MAX_IMAGES_PER_SUBJECT)
      throw new ValidationError(`at most ${MAX_IMAGES_PER_SUBJECT} images per subject`, 'too_many_images');
    return this.#allOrNone(watchlistId, images, async (tx, store, model) => {
      const subjectId = await this.#subjects.insertSubject({ ...parsed, watchlistId, addedBy: actor.id }, tx);
      const stored = await store(subjectId);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'subject.create',
          targetType: 'subject',
          targetId: subjectId,
          details: {
            watchlistId,
            label: parsed.label,
            category: parsed.category,
            priority: parsed.priority,
            images: stored.length,
            model,
          },
        },
        tx,
      );
      return { id: subjectId, images: stored };
    });
  }

  /**
   * Adds photos to an enrolled subject, through the same checks as enrolment; all or none. The
   * entry's approval is withdrawn: a second person approves it again with its new photos.
   */
  async addImages(actor: AuthUser, subjectId: string, images: UploadedImage[]): Promise<EnrolmentResult> {
    const subject = await this.get(subjectId);
    if (images.length === 0) throw new ValidationError('at least one image is required', 'missing_image');
    if (subject.images.length + images.length > MAX_IMAGES_PER_SUBJECT)
      throw new ValidationError(
        `at most ${MAX_IMAGES_PER_SUBJECT} images per subject; this one has ${subject.images.length}`,
        'too_many_images',
      );
    return this.#allOrNone(subject.watchlistId, images, async (tx, store, model) => {
      const stored = await store(subjectId);
      await this.#subjects.withdrawApproval(subjectId, tx);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'subject.images_add',
          targetType: 'subject',
          targetId: subjectId,
          details: {
            watchlistId: subject.watchlistId,
            images: stored.length,
            model,
            approvalWithdrawn: subject.approvedBy !== null,
          },
        },
        tx,
      );
      return { id: subjectId, images: stored };
    });
  }

  /**
   * Removes one photo of a subject, with its templates; a subject keeps at least one (409
   * `last_image`: delete the subject instead). The entry's approval is withdrawn, as for any change.
   * A running deployment's snapshot keeps its frozen copy until it stops.
   */
  async removeImage(actor: AuthUser, imageId: string): Promise<void> {
    const image = isUuid(imageId) ? await this.#subjects.findImage(imageId) : undefined;
    if (!image) throw new NotFoundError('reference image');
    image.sealed.fill(0);
    await this.#db.transaction(async (tx) => {
      await this.#subjects.lock(image.subjectId, tx);
      const subject = await this.#subjects.find(image.subjectId, tx);
      if (!subject) throw new NotFoundError('reference image');
      const count = subject.images.length;
      if (count <= 1)
        throw new ConflictError(
          'a subject keeps at least one photo: delete the subject instead',
          'last_image',
        );
      if (!(await this.#subjects.deleteImage(imageId, tx))) throw new NotFoundError('reference image');
      await this.#subjects.withdrawApproval(image.subjectId, tx);
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'subject.image_remove',
          targetType: 'subject',
          targetId: image.subjectId,
          details: {
            watchlistId: image.watchlistId,
            imageId,
            images: count - 1,
            approvalWithdrawn: subject.approvedBy !== null,
          },
        },
        tx,
      );
    });
  }

  /**
   * Checks every image and, only when all pass, runs `work` in one transaction with `store`, which
   * seals and stores them for a subject; the accepted images' bytes are zeroed whatever happens.
   */
  async #allOrNone(
    watchlistId: string,
    images: UploadedImage[],
    work: (
      tx: Queryable,
      store: (subjectId: string) => Promise<EnrolmentResult['images']>,
      model: string,
    ) => Promise<EnrolmentResult>,
  ): Promise<EnrolmentResult> {
    const engine = this.engine;
    if (!engine) throw new EngineUnavailableError();
    const checked = await this.#check(engine, watchlistId, images, { embed: true });
    const accepted = checked.filter((item): item is AcceptedImage => item.ok);
    const model = engine.profile.modelId;
    try {
      const failures = checked.flatMap((item) => (item.ok ? [] : [item.failure]));
      if (failures.length > 0) throw new EnrolmentRejectedError(failures);
      return await this.#db.transaction((tx) =>
        work(tx, (subjectId) => this.#storeImages(tx, subjectId, watchlistId, accepted, model), model),
      );
    } catch (error) {
      throw duplicateRace(error);
    } finally {
      for (const item of checked) {
        if (item.ok) forget(item);
        else item.face?.crop.fill(0);
      }
    }
  }

  /** Seals and stores accepted images with their templates, in the caller's transaction. */
  async #storeImages(
    tx: Queryable,
    subjectId: string,
    watchlistId: string,
    accepted: AcceptedImage[],
    model: string,
  ): Promise<EnrolmentResult['images']> {
    const stored: EnrolmentResult['images'] = [];
    for (const item of accepted) {
      const template = storedTemplate(this.templates?.current, item.face.embedding!);
      const id = await this.#subjects.insertImage(
        {
          subjectId,
          watchlistId,
          contentHash: item.hash,
          mimeType: sniffImageType(item.stored),
          width: item.width,
          height: item.height,
          quality: item.quality,
          // Bound to the subject and content hash of its row: a blob moved to another subject does not open.
          sealed: this.cipher.seal(item.stored, referenceImageContext(subjectId, item.hash)),
          model,
          embedding: template.vector,
          templateKeyId: template.keyId,
        },
        tx,
      );
      if (template.keyId) template.vector.fill(0);
      stored.push({ id, quality: item.quality });
    }
    return stored;
  }

  /**
   * What enrolment would decide for each image, with the aligned face it would use as a small JPEG,
   * and nothing stored: the same checks as `enrol` (duplicates in the watchlist, size, decoding,
   * the face gate) on the same metadata-free bytes, without the embedding.
   */
  async preview(watchlistId: string, images: UploadedImage[]): Promise<PreviewedImage[]> {
    if (!isUuid(watchlistId) || !(await this.#watchlists.find(watchlistId)))
      throw new NotFoundError('watchlist');
    if (images.length === 0) throw new ValidationError('at least one image is required', 'missing_image');
    if (images.length > MAX_IMAGES_PER_SUBJECT)
      throw new ValidationError(`at most ${MAX_IMAGES_PER_SUBJECT} images per subject`, 'too_many_images');
    const engine = this.engine;
    if (!engine) throw new EngineUnavailableError();
    const checked = await this.#check(engine, watchlistId, images, { embed: false });
    const [width, height] = engine.profile.embedder.inputSize;
    const previews: PreviewedImage[] = [];
    for (const [index, result] of checked.entries()) {
      const face = result.face;
      const code = result.ok ? 'ok' : result.failure.code;
      try {
        previews.push({
          index,
          filename: images[index]!.filename,
          ok: result.ok,
          code,
          message: result.ok ? 'one usable face' : result.failure.message,
          verdict: verdictWords({
            code,
            message: result.ok ? '' : result.failure.message,
            faces: result.ok ? 1 : result.faces,
            failed: result.ok ? [] : result.failed,
            interOcular: face?.face.quality.interOcular,
          }),
          face: face ? await faceThumbnail(face.crop, width, height) : null,
          ...(face ? { quality: roundQuality(face.face.quality) } : {}),
        });
      } finally {
        face?.crop.fill(0);
        if (result.ok) result.stored.fill(0);
      }
    }
    return previews;
  }

  /** Every image through enrolment's checks, in order: accepted with its face, or failed with why. */
  async #check(
    engine: EnrolmentEngine,
    watchlistId: string,
    images: UploadedImage[],
    options: { embed: boolean },
  ): Promise<CheckedImage[]> {
    const sha256 = images.map((image) => createHash('sha256').update(image.data).digest('hex'));
    const hashes = this.templates
      ? images.map((image) => this.templates!.current.contentHash(image.data))
      : sha256;
    // Images enrolled before content hashes were keyed are known by their SHA-256.
    const known = await this.#subjects.existingHashes(watchlistId, [...new Set([...hashes, ...sha256])]);
    const checked: CheckedImage[] = [];
    for (const [index, image] of images.entries()) {
      const fail = (code: string, message: string, rejection?: Partial<Rejected>) =>
        checked.push({
          ok: false,
          failure: { index, filename: image.filename, code, message },
          faces: rejection?.faces ?? 0,
          failed: rejection?.failed ?? [],
          ...(rejection?.face ? { face: rejection.face } : {}),
        });
      const hash = hashes[index]!;
      if (known.has(hash) || known.has(sha256[index]!) || hashes.indexOf(hash) < index) {
        fail('duplicate_image', 'this image is already enrolled in the watchlist');
        continue;
      }
      if (image.data.length > MAX_IMAGE_BYTES) {
        fail(
          'image_too_large',
          `the image has ${image.data.length} bytes; at most ${MAX_IMAGE_BYTES} are accepted`,
        );
        continue;
      }
      try {
        // Analysed as stored: decoded and encoded again without its metadata (EXIF, GPS).
        const stored = await stripImageMetadata(image.data);
        const analysis = await engine.analyse(stored, { maxFaces: 5, embed: options.embed });
        const verdict = assessEnrolmentImage(analysis);
        // The crops of faces not chosen are not kept.
        for (const other of analysis.faces)
          if (other !== verdict.face) {
            other.crop.fill(0);
            other.embedding?.fill(0);
          }
        if (!verdict.ok) {
          stored.fill(0);
          fail(verdict.code, verdict.message, verdict);
          continue;
        }
        if (options.embed && !verdict.face.embedding) throw new Error('the engine returned no embedding');
        checked.push({
          ok: true,
          hash,
          stored,
          width: analysis.width,
          height: analysis.height,
          quality: roundQuality(verdict.face.face.quality),
          face: verdict.face,
        });
      } catch (error) {
        if (error instanceof ImageError || (isVigilError(error) && error.status === 422))
          fail(error.code, error.message);
        else throw error;
      }
    }
    return checked;
  }

  async get(id: string): Promise<Subject> {
    const subject = isUuid(id) ? await this.#subjects.find(id) : undefined;
    if (!subject) throw new NotFoundError('subject');
    return subject;
  }

  async list(watchlistId: string, page: { limit: number; offset: number; q?: string }): Promise<Subject[]> {
    if (!isUuid(watchlistId) || !(await this.#watchlists.find(watchlistId)))
      throw new NotFoundError('watchlist');
    return this.#subjects.listByWatchlist(watchlistId, page);
  }

  /** Deletes a subject with its images and embeddings; running snapshots keep their frozen copy until stopped. */
  async delete(actor: AuthUser, id: string): Promise<void> {
    const subject = await this.get(id);
    await this.#db.transaction(async (tx) => {
      if (!(await this.#subjects.delete(id, tx))) throw new NotFoundError('subject');
      await this.#audit.append(
        {
          actorId: actor.id,
          actorName: actor.username,
          action: 'subject.delete',
          targetType: 'subject',
          targetId: id,
          details: { watchlistId: subject.watchlistId, label: subject.label, images: subject.images.length },
        },
        tx,
      );
    });
  }

  /**
   * The decrypted bytes of a reference image, for admins and watchlist managers, and for operators
   * of a deployment whose list held the subject. Every view is audited.
   */
  async viewImage(actor: AuthUser, id: string): Promise<{ mimeType: string; data: Buffer }> {
    const image = isUuid(id) ? await this.#subjects.findImage(id) : undefined;
    if (!image) throw new NotFoundError('reference image');
    // Operators and officers see the photos of subjects on their deployments' lists.
    if (
      (actor.role === 'operator' || actor.role === 'officer') &&
      !(await this.#subjects.operatorMaySee(actor.id, image.subjectId))
    )
      throw new NotFoundError('reference image');
    const data = this.cipher.open(image.sealed, referenceImageContext(image.subjectId, image.contentHash));
    await this.#audit.append({
      actorId: actor.id,
      actorName: actor.username,
      action: 'reference_image.view',
      targetType: 'reference_image',
      targetId: id,
      details: { subjectId: image.subjectId, watchlistId: image.watchlistId },
    });
    return { mimeType: image.mimeType, data };
  }
}
