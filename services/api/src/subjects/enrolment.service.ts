import { createHash } from 'node:crypto';
import {
  type AuditRepository,
  type Database,
  type DataCipher,
  ImageError,
  isVigilError,
  NotFoundError,
  referenceImageContext,
  storedTemplate,
  type TemplateKeys,
  ValidationError,
} from '@vigil/core';
import { assessEnrolmentImage, type FaceEngine } from '@vigil/face-runtime';
import type { AuthUser } from '../auth/roles.js';
import { EngineUnavailableError, EnrolmentRejectedError, type ImageFailure } from '../errors.js';
import type { Repositories } from '../repositories.js';
import { isUuid } from '../uuid.js';
import type { WatchlistRepository } from '../watchlists/watchlist.repository.js';
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
  readonly #subjects: SubjectRepository;
  readonly #watchlists: WatchlistRepository;
  readonly #audit: AuditRepository;
  readonly #db: Database;

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
    const engine = this.engine;
    if (!engine) throw new EngineUnavailableError();

    const failures: ImageFailure[] = [];
    const sha256 = images.map((image) => createHash('sha256').update(image.data).digest('hex'));
    const hashes = this.templates
      ? images.map((image) => this.templates!.current.contentHash(image.data))
      : sha256;
    // Images enrolled before content hashes were keyed are known by their SHA-256.
    const known = await this.#subjects.existingHashes(watchlistId, [...new Set([...hashes, ...sha256])]);
    const accepted: {
      hash: string;
      image: UploadedImage;
      /** What is stored: the image without its metadata (EXIF, GPS). */
      stored: Buffer;
      width: number;
      height: number;
      quality: Record<string, number>;
      embedding: Float32Array;
    }[] = [];
    for (const [index, image] of images.entries()) {
      const fail = (code: string, message: string) =>
        failures.push({ index, filename: image.filename, code, message });
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
        const analysis = await engine.analyse(stored, { maxFaces: 5 });
        const verdict = assessEnrolmentImage(analysis);
        if (!verdict.ok) {
          fail(verdict.code, verdict.message);
          continue;
        }
        if (!verdict.face.embedding) throw new Error('the engine returned no embedding');
        accepted.push({
          hash,
          image,
          stored,
          width: analysis.width,
          height: analysis.height,
          quality: roundQuality(verdict.face.face.quality),
          embedding: verdict.face.embedding,
        });
      } catch (error) {
        if (error instanceof ImageError || (isVigilError(error) && error.status === 422))
          fail(error.code, error.message);
        else throw error;
      }
    }
    if (failures.length > 0) throw new EnrolmentRejectedError(failures);

    const model = engine.profile.modelId;
    try {
      return await this.#db.transaction(async (tx) => {
        const subjectId = await this.#subjects.insertSubject(
          { ...parsed, watchlistId, addedBy: actor.id },
          tx,
        );
        const stored: EnrolmentResult['images'] = [];
        for (const item of accepted) {
          const template = storedTemplate(this.templates?.current, item.embedding);
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
    } catch (error) {
      // Two uploads of the same image racing: the unique (watchlist, hash) index decides.
      if ((error as { code?: string }).code === '23505')
        throw new EnrolmentRejectedError([
          {
            index: 0,
            filename: '',
            code: 'duplicate_image',
            message: 'this image is already enrolled in the watchlist',
          },
        ]);
      throw error;
    } finally {
      for (const item of accepted) {
        item.embedding.fill(0);
        item.stored.fill(0);
      }
    }
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
