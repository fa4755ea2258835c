import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { FaceEngine } from '@vigil/face-runtime';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { expect } from 'vitest';

/** face-api's demo photos: groups of people, several faces each. */
export const SAMPLE_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../node_modules/@vladmandic/face-api/demo',
);

export function samplePhoto(n: number): Buffer {
  return fs.readFileSync(path.join(SAMPLE_DIR, `sample${n}.jpg`));
}

let engine: Promise<FaceEngine> | undefined;
/** The real face engine on the default profile, loaded once per test file. */
export function loadEngine(): Promise<FaceEngine> {
  engine ??= FaceEngine.load({ profile: 'default', threads: 1 });
  return engine;
}

/** A JPEG of one face of a sample photo (face `index`, largest first), cut out with a margin. */
export async function faceCrop(sample: number, index: number): Promise<Buffer> {
  const bytes = samplePhoto(sample);
  const analysis = await (await loadEngine()).detect(bytes);
  const face = analysis.faces[index];
  if (!face) throw new Error(`sample${sample} has no face ${index}`);
  const [x, y, w, h] = face.face.box;
  const margin = 0.6;
  const left = Math.max(0, Math.round(x - w * margin));
  const top = Math.max(0, Math.round(y - h * margin));
  const width = Math.min(analysis.width - left, Math.round(w * (1 + 2 * margin)));
  const height = Math.min(analysis.height - top, Math.round(h * (1 + 2 * margin)));
  return sharp(bytes).extract({ left, top, width, height }).jpeg({ quality: 90 }).toBuffer();
}

/** A grey picture with no face in it. */
export function blankImage(): Promise<Buffer> {
  return sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 120, g: 120, b: 120 } } })
    .jpeg()
    .toBuffer();
}

/** A valid PNG header that claims 50000x50000 pixels: a decompression bomb. */
export function bombPng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(50_000, 0);
  header.writeUInt32BE(50_000, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const idat = zlib.deflateSync(Buffer.alloc(50_001 * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A multipart/form-data body. */
export function multipart(
  fields: Record<string, string>,
  files: { name?: string; filename: string; data: Buffer; type?: string }[],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----vigil${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields))
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  for (const file of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.name ?? 'image'}"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'image/jpeg'}\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return {
    payload: Buffer.concat(parts),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/**
 * Enrols one subject through POST /watchlists/:id/subjects as `token`'s user and returns its id;
 * fails the test unless the API answers 201.
 */
export async function enrolThroughApi(
  app: FastifyInstance,
  token: string,
  watchlistId: string,
  fields: Record<string, string>,
  images: Buffer[],
): Promise<string> {
  const body = multipart(
    fields,
    images.map((data, i) => ({ filename: `${i}.jpg`, data })),
  );
  const response = await app.inject({
    method: 'POST',
    url: `/api/v1/watchlists/${watchlistId}/subjects`,
    headers: { authorization: `Bearer ${token}`, ...body.headers },
    payload: body.payload,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().id;
}
