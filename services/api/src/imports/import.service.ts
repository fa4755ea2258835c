import fs from 'node:fs/promises';
import path from 'node:path';
import {
  type AuditRepository,
  ImageError,
  isVigilError,
  type Logger,
  NotFoundError,
  ValidationError,
  VigilError,
} from '@vigil/core';
import type { AuthUser } from '../auth/roles.js';
import type { Repositories } from '../repositories.js';
import {
  type EnrolmentService,
  MAX_IMAGE_BYTES,
  MAX_IMAGES_PER_SUBJECT,
  SUBJECT_FIELDS,
  type SubjectFields,
} from '../subjects/enrolment.service.js';
import { isUuid } from '../uuid.js';
import type { WatchlistRepository } from '../watchlists/watchlist.repository.js';
import { parseCsv } from './csv.js';
import type { ImportFailure, ImportProgress, ImportRepository } from './import.repository.js';
import { extractZip, type ZipLimits } from './zip-extract.js';

/** Rows per import: a national list is tens of thousands; more is a mistake. */
export const MAX_IMPORT_ROWS = 100_000;
/** Files in a ZIP, and the bytes they really inflate to (never their declared sizes): ZIP bombs stop there. */
export const MAX_ZIP_ENTRIES = 200_000;
export const MAX_ZIP_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024;
/** labels.csv: MAX_IMPORT_ROWS rows of up to about 300 characters. */
export const MAX_LABELS_CSV_BYTES = 32 * 1024 * 1024;
/**
 * Imports unpacking or enrolling at once in one process; more are refused (429 `too_many_imports`).
 * Each holds its images in memory and competes with live matching for the CPU.
 */
export const MAX_CONCURRENT_IMPORTS = 2;

const ZIP_LIMITS: ZipLimits = {
  maxEntries: MAX_ZIP_ENTRIES,
  maxEntryBytes: MAX_IMAGE_BYTES,
  maxCsvBytes: MAX_LABELS_CSV_BYTES,
  maxTotalBytes: MAX_ZIP_UNCOMPRESSED_BYTES,
};

/** Another import is already unpacking or running in this process beyond the cap. */
export class TooManyImportsError extends VigilError {
  override readonly name = 'TooManyImportsError';
  constructor() {
    super(
      'too_many_imports',
      `at most ${MAX_CONCURRENT_IMPORTS} imports run at once; try again when one ends`,
      429,
    );
  }
}
/** Row failures kept in the progress record (the counts are always complete). */
const MAX_STORED_FAILURES = 1000;
/** Progress is written every this many rows. */
const PROGRESS_EVERY = 10;

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
    for (const column of SUBJECT_FIELDS) {
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

async function zipSource(archive: Uint8Array): Promise<{ source: ImageSource; labels?: string }> {
  const { files, oversized } = await extractZip(archive, ZIP_LIMITS);
  const byName = new Map<string, Uint8Array>();
  const tooLarge = new Set<string>();
  for (const [name, data] of files) {
    byName.set(name, data);
    const base = path.posix.basename(name);
    if (!byName.has(base)) byName.set(base, data);
  }
  for (const name of oversized) {
    tooLarge.add(name);
    tooLarge.add(path.posix.basename(name));
  }
  const csvName = [...files.keys()].find((name) => /(^|\/)labels\.csv$/i.test(name));
  if (!csvName && [...oversized].some((name) => /(^|\/)labels\.csv$/i.test(name)))
    throw new ValidationError(
      `labels.csv inflates to more than ${MAX_LABELS_CSV_BYTES} bytes`,
      'invalid_csv',
    );
  const labels = csvName ? Buffer.from(files.get(csvName)!).toString('utf8') : undefined;
  return {
    labels,
    source: {
      async read(name) {
        const key = name.replace(/^\.?\//, '');
        const data = byName.get(key);
        if (!data && tooLarge.has(key))
          throw new ImageError('image_too_large', `${key} inflates to more than ${MAX_IMAGE_BYTES} bytes`);
        return data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : undefined;
      },
      release: () => byName.clear(),
    },
  };
}

/** True when `file` is `root` or inside it. */
function isInside(root: string, file: string): boolean {
  return file === root || file.startsWith(`${root}${path.sep}`);
}

/**
 * Reads a file named by the CSV, only if it is inside the folder once every symlink is resolved:
 * neither `..` nor a link may lead out.
 */
async function readInside(realRoot: string, name: string, maxBytes: number): Promise<Buffer | undefined> {
  const file = path.resolve(realRoot, name);
  if (!isInside(realRoot, file)) return undefined;
  try {
    const real = await fs.realpath(file);
    if (!isInside(realRoot, real)) return undefined;
    const stat = await fs.stat(real);
    if (!stat.isFile()) return undefined;
    if (stat.size > maxBytes) return Buffer.alloc(maxBytes + 1);
    return await fs.readFile(real);
  } catch {
    return undefined;
  }
}

function folderSource(realRoot: string): ImageSource {
  return {
    read: (name) => readInside(realRoot, name, MAX_IMAGE_BYTES),
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
  /** Imports unpacking or running: at most MAX_CONCURRENT_IMPORTS. */
  #slots = 0;
  #closing = false;

  constructor(
    repositories: Pick<Repositories, 'imports' | 'watchlists' | 'audit'>,
    private readonly enrolment: EnrolmentService,
    private readonly logger: Logger,
  ) {
    this.#imports = repositories.imports;
    this.#watchlists = repositories.watchlists;
    this.#audit = repositories.audit;
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
    const release = this.#reserve();
    try {
      const { source, labels } = await zipSource(archive);
      const csv = labelsCsv ?? labels;
      if (!csv) {
        source.release();
        throw new ValidationError('send a labels CSV file, or put labels.csv in the ZIP', 'invalid_csv');
      }
      return await this.#start(actor, watchlistId, parseLabels(csv), source, { kind: 'zip' }, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  async fromFolder(
    actor: AuthUser,
    watchlistId: string,
    folder: string,
    labelsPath?: string,
  ): Promise<ImportProgress> {
    await this.#checkWatchlist(watchlistId);
    let root: string;
    let csv: string | undefined;
    try {
      root = await fs.realpath(path.resolve(folder));
      if (!(await fs.stat(root)).isDirectory()) throw new Error('not a folder');
      // The labels CSV too must be inside the folder: `../` or a link out is not read.
      const labels = await readInside(root, labelsPath ?? 'labels.csv', MAX_LABELS_CSV_BYTES);
      csv = labels && labels.length <= MAX_LABELS_CSV_BYTES ? labels.toString('utf8') : undefined;
    } catch {
      csv = undefined;
      root = '';
    }
    if (csv === undefined)
      throw new ValidationError(
        'the folder or its labels CSV (inside the folder) cannot be read',
        'invalid_folder',
      );
    const rows = parseLabels(csv);
    const release = this.#reserve();
    try {
      return await this.#start(
        actor,
        watchlistId,
        rows,
        folderSource(root),
        { kind: 'folder', folder: root },
        release,
      );
    } catch (error) {
      release();
      throw error;
    }
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

  /**
   * Takes one of the MAX_CONCURRENT_IMPORTS slots, held from unpacking to the import's end, or refuses
   * with 429 `too_many_imports`. Returns the slot's release (idempotent).
   */
  #reserve(): () => void {
    if (this.#slots >= MAX_CONCURRENT_IMPORTS) throw new TooManyImportsError();
    this.#slots++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#slots--;
    };
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
    release: () => void,
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
      release();
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
