import type {} from '@fastify/multipart';
import { ImageError, ValidationError, VigilError } from '@vigil/core';
import type { FastifyRequest } from 'fastify';

export interface MultipartUpload {
  fields: Record<string, string>;
  files: { fieldname: string; filename: string; data: Buffer }[];
}

/**
 * Reads a whole multipart request into memory within `limits`: files only under `fileFields`,
 * text only under `textFields`. 415 when the request is not multipart; a file over `fileSize` is
 * 422 `image_too_large` (or 413 for archives); too many parts is 413.
 */
export async function readMultipart(
  request: FastifyRequest,
  options: {
    fileFields: string[];
    textFields: string[];
    maxFiles: number;
    fileSize: number;
    /** Error code for a file over the size limit. */
    tooLargeCode?: 'image_too_large' | 'payload_too_large';
  },
): Promise<MultipartUpload> {
  if (!request.isMultipart()) throw new VigilError('unsupported_media_type', 'send multipart/form-data', 415);
  const upload: MultipartUpload = { fields: {}, files: [] };
  try {
    for await (const part of request.parts({
      limits: {
        fileSize: options.fileSize,
        files: options.maxFiles,
        fields: options.textFields.length * 2,
        fieldSize: 16 * 1024,
        parts: options.maxFiles + options.textFields.length * 2,
      },
    })) {
      if (part.type === 'file') {
        if (!options.fileFields.includes(part.fieldname)) {
          part.file.resume();
          throw new ValidationError(`unexpected file field ${JSON.stringify(part.fieldname.slice(0, 40))}`);
        }
        upload.files.push({
          fieldname: part.fieldname,
          filename: part.filename ?? '',
          data: await part.toBuffer(),
        });
      } else {
        if (!options.textFields.includes(part.fieldname))
          throw new ValidationError(`unexpected field ${JSON.stringify(part.fieldname.slice(0, 40))}`);
        if (part.fieldname in upload.fields)
          throw new ValidationError(`field ${part.fieldname} was given twice`);
        upload.fields[part.fieldname] = String(part.value ?? '');
      }
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      if ((options.tooLargeCode ?? 'image_too_large') === 'image_too_large')
        throw new ImageError('image_too_large', `an image may have at most ${options.fileSize} bytes`);
      throw new VigilError('payload_too_large', `a file may have at most ${options.fileSize} bytes`, 413);
    }
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT')
      throw new VigilError('payload_too_large', `at most ${options.maxFiles} files are accepted`, 413);
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
      throw new VigilError('unsupported_media_type', 'send multipart/form-data', 415);
    throw error;
  }
  return upload;
}
