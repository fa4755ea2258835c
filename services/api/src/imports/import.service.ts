import fs from 'node:fs/promises';
import path from 'node:path';
import {
  AuditRepository,
  type Database,
  ImageError,
  isVigilError,
  type Logger,
  NotFoundError,
  ValidationError,
} from '@vigil/core';
import { unzipSync } from 'fflate';
import type { AuthUser } from '../auth/roles.js';
import {
  type EnrolmentService,
  MAX_IMAGE_BYTES,
  MAX_IMAGES_PER_SUBJECT,
  type SubjectFields,
} from '../subjects/enrolment.service.js';
import { isUuid } from '../uuid.js';
import { WatchlistRepository } from '../watchlists/watchlist.repository.js';
import { parseCsv } from './csv.js';
import { type ImportFailure, type ImportProgress, ImportRepository } from './import.repository.js';

/** Rows per import: a national list is tens of thousands; more is a mistake. */
export const MAX_IMPORT_ROWS = 100_000;
/** Files in a ZIP, and their total uncompressed bytes: refuses ZIP bombs before inflating. */
export const MAX_ZIP_ENTRIES = 200_000;
export const MAX_ZIP_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024;
/** Row failures kept in the progress record (the counts are always complete). */
const MAX_STORED_FAILURES = 1000;
/** Progress is written every this many rows. */
const PROGRESS_EVERY = 10;

const TEXT_COLUMNS = [
  'label',
  'category',
  'priority',
  'notes',
  'source',
  'legal_basis',
  'expires_at',
] as const;

interface ImportRowSpec {
  row: number;
  fields: SubjectFields;
  files: string[];
}

/** Where the images of an import come from. */
interface ImageSource {
  read(name: string): Promise<Buffer | undefined>;
  /** Called when the import ends, to drop what it holds. */
  release(): void;
}

/** Parses the labels CSV: a header with label, category, priority and one or more file columns. */
export function parseLabels(text: string): ImportRowSpec[] {
  const rows = parseCsv(text);
  const header = rows.shift()?.map((h) => h.trim().toLowerCase());
  if (!header) throw new ValidationError('the CSV is empty', 'invalid_csv');
  for (const column of ['label', 'category', 'priority'])
    if (!header.includes(column)) throw new ValidationError(`the CSV has no ${column} column`, 'invalid_csv');
  const fileColumns = header.flatMap((h, i) =>
    h.startsWith('file') || h === 'image' || h === 'images' ? [i] : [],
  );
  if (fileColumns.length === 0) throw new ValidationError('the CSV has no file column', 'invalid_csv');
  if (rows.length === 0) throw new ValidationError('the CSV has no rows', 'invalid_csv');
  if (rows.length > MAX_IMPORT_ROWS)
    throw new ValidationError(`at most ${MAX_IMPORT_ROWS} rows`, 'invalid_csv');
  return rows.map((cells, index) => {
    const fields: SubjectFields = {};
    for (const column of TEXT_COLUMNS) {
      const at = header.indexOf(column);
      if (at >= 0 && cells[at] !== undefined) fields[column] = cells[at];
    }
    const files = fileColumns
      .flatMap((i) => (cells[i] ?? '').split(/[;|]/))
      .map((f) => f.trim())
      .filter(Boolean);
    return { row: index + 2, fields, files };
  });
}

function zipSource(archive: Uint8Array): { source: ImageSource; labels?: string } {
  let entries = 0;
  let total = 0;
  const oversized = new Set<string>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(archive, {
      filter: (file) => {
        if (file.name.endsWith('/')) return false;
        entries++;
        total += file.originalSize;
        if (entries > MAX_ZIP_ENTRIES)
          throw new ValidationError(`more than ${MAX_ZIP_ENTRIES} files in the ZIP`, 'invalid_archive');
        if (total > MAX_ZIP_UNCOMPRESSED_BYTES)
          throw new ValidationError('the ZIP inflates to more than 2 GiB', 'invalid_archive');
        // Oversized images are kept out of memory; the row fails with image_too_large.
        if (file.originalSize <= MAX_IMAGE_BYTES || /\.csv$/i.test(file.name)) return true;
        oversized.add(file.name);
        oversized.add(path.posix.basename(file.name));
        return false;
      },
    });
  } catch (error) {
    if (isVigilError(error)) throw error;
    throw new ValidationError('the archive is not a readable ZIP', 'invalid_archive');
  }
  const byName = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(files)) {
    byName.set(name, data);
    const base = path.posix.basename(name);
    if (!byName.has(base)) byName.set(base, data);
  }
  const csvName = Object.keys(files).find((name) => /(^|\/)labels\.csv$/i.test(name));
  const labels = csvName ? Buffer.from(files[csvName]!).toString('utf8') : undefined;
  return {
    labels,
    source: {
      async read(name) {
        const key = name.replace(/^\.?\//, '');
        if (oversized.has(key))
          throw new ImageError('image_too_large', `${key} has more than ${MAX_IMAGE_BYTES} bytes`);
        const data = byName.get(key);
        return data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : undefined;
      },
      release: () => byName.clear(),
    },
  };
}

function folderSource(folder: string): ImageSource {
  return {
    async read(name) {
      const file = path.resolve(folder, name);
      // Names come from the CSV: nothing outside the folder may be read.
      if (file !== folder && !file.startsWith(`${folder}${path.sep}`)) return undefined;
      try {
        const stat = await fs.stat(file);
        if (!stat.isFile()) return undefined;
        if (stat.size > MAX_IMAGE_BYTES) return Buffer.alloc(MAX_IMAGE_BYTES + 1);
        return await fs.readFile(file);
      } catch {
        return undefined;
      }
    },
    release: () => {},
  };
}

/**
 * Bulk imports: a ZIP (uploaded) or a folder (on the server, admins only) of images plus a CSV of
 * labels, enrolled row by row in the background through the same checks as single enrolment.
 * Progress is kept in `imports`; each row is one subject, enrolled or failed on its own.
 */
export class ImportService {
  readonly #imports: ImportRepository;
  readonly #watchlists: WatchlistRepository;
  readonly #audit: AuditRepository;
  readonly #running = new Set<Promise<void>>();
  #closing = false;

  constructor(
    private readonly db: Database,
    private readonly enrolment: EnrolmentService,
    private readonly logger: Logger,
  ) {
    this.#imports = new ImportRepository(db);
    this.#watchlists = new WatchlistRepository(db);
    this.#audit = new AuditRepository(db);
  }

  /** Marks imports a dead process left running as failed. */
  recoverInterrupted(): Promise<number> {
    return this.#imports.failInterrupted();
  }

  async fromZip(
    actor: AuthUser,
    watchlistId: string,
    archive: Uint8Array,
    labelsCsv?: string,
  ): Promise<ImportProgress> {
    await this.#checkWatchlist(watchlistId);
    const { source, labels } = zipSource(archive);
    const csv = labelsCsv ?? labels;
    if (!csv) {
      source.release();
      throw new ValidationError('send a labels CSV file, or put labels.csv in the ZIP', 'invalid_csv');
    }
    return this.#start(actor, watchlistId, parseLabels(csv), source, { kind: 'zip' });
  }

  async fromFolder(
    actor: AuthUser,
    watchlistId: string,
    folder: string,
    labelsPath?: string,
  ): Promise<ImportProgress> {
    await this.#checkWatchlist(watchlistId);
    const root = path.resolve(folder);
    const csvFile = path.resolve(root, labelsPath ?? 'labels.csv');
    let csv: string;
    try {
      if (!(await fs.stat(root)).isDirectory()) throw new Error('not a folder');
      csv = await fs.readFile(csvFile, 'utf8');
    } catch {
      throw new ValidationError('the folder or its labels CSV cannot be read', 'invalid_folder');
    }
    return this.#start(actor, watchlistId, parseLabels(csv), folderSource(root), {
      kind: 'folder',
      folder: root,
    });
  }

  async get(id: string): Promise<ImportProgress> {
    const progress = isUuid(id) ? await this.#imports.find(id) : undefined;
    if (!progress) throw new NotFoundError('import');
    return progress;
  }

  async list(watchlistId: string): Promise<ImportProgress[]> {
    await this.#checkWatchlist(watchlistId);
    return this.#imports.listByWatchlist(watchlistId);
  }

  /** Stops taking rows and waits for running imports to record where they stopped. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.allSettled([...this.#running]);
  }

  async #checkWatchlist(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.#watchlists.find(id))) throw new NotFoundError('watchlist');
  }

  async #start(
    actor: AuthUser,
    watchlistId: string,
    rows: ImportRowSpec[],
    source: ImageSource,
    origin: Record<string, unknown>,
  ): Promise<ImportProgress> {
    const created = await this.#imports.create(watchlistId, rows.length, actor.id);
    await this.#audit.append({
      actorId: actor.id,
      actorName: actor.username,
      action: 'import.start',
      targetType: 'watchlist',
      targetId: watchlistId,
      details: { importId: created.id, rows: rows.length, ...origin },
    });
    const run = this.#run(actor, created.id, watchlistId, rows, source).finally(() => {
      source.release();
      this.#running.delete(run);
    });
    this.#running.add(run);
    return created;
  }

  async #run(
    actor: AuthUser,
    id: string,
    watchlistId: string,
    rows: ImportRowSpec[],
    source: ImageSource,
  ): Promise<void> {
    const counts = { processed: 0, enrolled: 0, failed: 0, errors: [] as ImportFailure[] };
    const fail = (spec: ImportRowSpec, code: string, message: string) => {
      counts.failed++;
      if (counts.errors.length < MAX_STORED_FAILURES)
        counts.errors.push({ row: spec.row, label: (spec.fields.label ?? '').slice(0, 200), code, message });
    };
    try {
      for (const spec of rows) {
        if (this.#closing) throw new Error('the server stopped during the import');
        try {
          if (spec.files.length === 0)
            throw new ValidationError('the row names no image file', 'missing_image');
          if (spec.files.length > MAX_IMAGES_PER_SUBJECT)
            throw new ValidationError(
              `at most ${MAX_IMAGES_PER_SUBJECT} images per subject`,
              'too_many_images',
            );
          const images = [];
          for (const name of spec.files) {
            const data = await source.read(name);
            if (!data) throw new ValidationError(`file ${name} is not in the import`, 'missing_file');
            images.push({ filename: name, data });
          }
          await this.enrolment.enrol(actor, watchlistId, spec.fields, images);
          counts.enrolled++;
        } catch (error) {
          if (!isVigilError(error) || error.status >= 500) throw error;
          fail(spec, error.code, error.message);
        }
        counts.processed++;
        if (counts.processed % PROGRESS_EVERY === 0) await this.#imports.progress(id, counts);
      }
      await this.#imports.progress(id, counts);
      await this.#imports.finish(id, 'done');
    } catch (error) {
      this.logger.warn({ importId: id, err: { message: (error as Error).message } }, 'import failed');
      await this.#imports.progress(id, counts).catch(() => {});
      await this.#imports.finish(id, 'failed', (error as Error).message.slice(0, 500)).catch(() => {});
    }
    await this.#audit
      .append({
        actorId: actor.id,
        actorName: actor.username,
        action: 'import.finish',
        targetType: 'watchlist',
        targetId: watchlistId,
        details: {
          importId: id,
          processed: counts.processed,
          enrolled: counts.enrolled,
          failed: counts.failed,
        },
      })
      .catch(() => {});
  }
}
