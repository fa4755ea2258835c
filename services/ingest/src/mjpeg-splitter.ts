/** Largest frame accepted; a 4K q3 JPEG is under 1 MB, so anything past this is a broken stream. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

enum Phase {
  /** Looking for SOI (FF D8). */
  Seek,
  /** Reading marker segments up to SOS. */
  Header,
  /** In entropy-coded data after SOS, looking for a marker that is not a stuffed byte or RSTn. */
  Scan,
}

/**
 * Cuts whole JPEG images out of ffmpeg's MJPEG pipe. It walks the JPEG structure (marker segments
 * by their lengths, then entropy-coded data where FF 00 and RSTn are not markers) rather than
 * searching for FF D9, so bytes inside a table or an EXIF segment never end a frame early.
 */
export class MjpegSplitter {
  #buffer: Buffer = Buffer.alloc(0);
  #phase = Phase.Seek;
  #start = 0;
  #pos = 0;
  /** Bytes thrown away because they were not part of a JPEG, or a frame grew past the limit. */
  discarded = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Feeds bytes from the pipe; returns every frame completed by them. */
  push(chunk: Uint8Array): Buffer[] {
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#buffer = this.#buffer.length === 0 ? incoming : Buffer.concat([this.#buffer, incoming]);
    const frames: Buffer[] = [];
    const b = this.#buffer;
    for (;;) {
      if (this.#phase === Phase.Seek) {
        const soi = findSoi(b, this.#pos);
        if (soi < 0) {
          // Keep a trailing FF: it may be the first half of the next SOI.
          const keep = b.length > 0 && b[b.length - 1] === 0xff ? 1 : 0;
          this.discarded += Math.max(0, b.length - this.#pos - keep);
          this.#pos = b.length - keep;
          this.#start = this.#pos;
          break;
        }
        this.discarded += soi - this.#pos;
        this.#start = soi;
        this.#pos = soi + 2;
        this.#phase = Phase.Header;
      }
      if (this.#phase === Phase.Header) {
        if (this.#pos + 4 > b.length) break;
        if (b[this.#pos] !== 0xff) {
          this.#abandon(b);
          continue;
        }
        const marker = b[this.#pos + 1] as number;
        if (marker === 0xff) {
          this.#pos++; // fill byte
          continue;
        }
        if (marker === 0xd9) {
          frames.push(this.#emit(b, this.#pos + 2));
          continue;
        }
        if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
          this.#pos += 2;
          continue;
        }
        const length = b.readUInt16BE(this.#pos + 2);
        if (length < 2) {
          this.#abandon(b);
          continue;
        }
        if (this.#pos + 2 + length > b.length) {
          if (this.#pos + 2 + length - this.#start > this.maxFrameBytes) this.#abandon(b);
          else break;
          continue;
        }
        this.#pos += 2 + length;
        if (marker === 0xda) this.#phase = Phase.Scan;
        continue;
      }
      // Phase.Scan
      let found = -1;
      let i = this.#pos;
      while (i < b.length - 1) {
        i = b.indexOf(0xff, i);
        if (i < 0 || i >= b.length - 1) break;
        const next = b[i + 1] as number;
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          i += next === 0xff ? 1 : 2;
          continue;
        }
        found = i;
        break;
      }
      if (found < 0) {
        this.#pos = Math.max(this.#pos, b.length - 1);
        if (b.length - this.#start > this.maxFrameBytes) this.#abandon(b);
        else break;
        continue;
      }
      this.#pos = found;
      if (b[found + 1] === 0xd9) frames.push(this.#emit(b, found + 2));
      // Another marker (progressive JPEGs have several scans): back to reading segments.
      else this.#phase = Phase.Header;
    }
    this.#compact(b);
    return frames;
  }

  /** Bytes held for an unfinished frame. */
  get buffered(): number {
    return this.#buffer.length;
  }

  #emit(b: Buffer, end: number): Buffer {
    const frame = Buffer.from(b.subarray(this.#start, end));
    this.#phase = Phase.Seek;
    this.#pos = end;
    this.#start = end;
    return frame;
  }

  #abandon(b: Buffer): void {
    this.discarded += this.#pos - this.#start + 2;
    this.#phase = Phase.Seek;
    this.#pos = Math.min(this.#start + 2, b.length);
    this.#start = this.#pos;
  }

  /** Drops the bytes before the frame in progress, so the buffer holds at most one frame. */
  #compact(b: Buffer): void {
    const base = Math.min(this.#start, this.#pos);
    this.#buffer = Buffer.from(b.subarray(base));
    this.#pos -= base;
    this.#start -= base;
  }
}

function findSoi(b: Buffer, from: number): number {
  let i = from;
  for (;;) {
    i = b.indexOf(0xff, i);
    if (i < 0 || i >= b.length - 1) return -1;
    if (b[i + 1] === 0xd8) return i;
    i++;
  }
}
