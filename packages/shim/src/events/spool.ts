import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  writeSync,
  constants,
} from "node:fs";

/**
 * An ordered, durable queue of encoded events in one file: an 8-byte header holding the
 * offset of the first unacknowledged record, then records `[u32 BE length][bytes]`.
 * At most `maxInMemory` records are held in memory; the rest wait on disk and are read
 * back in order as the head drains. When everything is acknowledged the file is truncated.
 * A spool left behind by a crashed shim is picked up where it stopped.
 */
export class EventSpool {
  private readonly fd: number;
  private readonly window: Array<{ bytes: Uint8Array; end: number }> = [];
  /** offset of the first record not loaded into the window */
  private readOffset = HEADER;
  private fileEnd = HEADER;
  private pendingCount = 0;

  constructor(
    readonly path: string,
    private readonly maxInMemory = 1024,
  ) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    this.recover();
  }

  /** Number of events not yet acknowledged. */
  get size(): number {
    return this.pendingCount;
  }

  append(bytes: Uint8Array): void {
    const rec = Buffer.alloc(4 + bytes.length);
    rec.writeUInt32BE(bytes.length, 0);
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(rec, 4);
    writeAll(this.fd, rec, this.fileEnd);
    const onDiskOnly = this.readOffset < this.fileEnd;
    this.fileEnd += rec.length;
    this.pendingCount++;
    if (!onDiskOnly && this.window.length < this.maxInMemory) {
      this.window.push({ bytes, end: this.fileEnd });
      this.readOffset = this.fileEnd;
    }
  }

  /** The oldest unacknowledged event. */
  head(): Uint8Array | undefined {
    if (this.window.length === 0) this.refill();
    return this.window[0]?.bytes;
  }

  /** Drops the head: it was delivered. */
  ack(): void {
    if (this.window.length === 0) this.refill();
    const first = this.window.shift();
    if (!first) return;
    this.pendingCount--;
    if (this.pendingCount === 0) {
      ftruncateSync(this.fd, HEADER);
      this.readOffset = this.fileEnd = HEADER;
      this.writeHeader(HEADER);
    } else {
      this.writeHeader(first.end);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private writeHeader(offset: number): void {
    const h = Buffer.alloc(HEADER);
    h.writeBigUInt64BE(BigInt(offset), 0);
    writeAll(this.fd, h, 0);
  }

  private refill(): void {
    while (this.window.length < this.maxInMemory && this.readOffset < this.fileEnd) {
      const rec = this.readRecord(this.readOffset);
      if (!rec) break;
      this.window.push(rec);
      this.readOffset = rec.end;
    }
  }

  private readRecord(offset: number): { bytes: Uint8Array; end: number } | undefined {
    const len = Buffer.alloc(4);
    if (readSync(this.fd, len, 0, 4, offset) < 4) return undefined;
    const n = len.readUInt32BE(0);
    const bytes = Buffer.alloc(n);
    if (n > 0 && readSync(this.fd, bytes, 0, n, offset + 4) < n) return undefined;
    return { bytes: new Uint8Array(bytes), end: offset + 4 + n };
  }

  private recover(): void {
    const size = fstatSync(this.fd).size;
    if (size < HEADER) {
      ftruncateSync(this.fd, 0);
      this.writeHeader(HEADER);
      return;
    }
    const h = Buffer.alloc(HEADER);
    readSync(this.fd, h, 0, HEADER, 0);
    let offset = Math.max(HEADER, Number(h.readBigUInt64BE(0)));
    // count complete records; a torn tail (crash mid-append) is cut off
    this.readOffset = offset;
    for (;;) {
      const rec = offset < size ? this.readRecord(offset) : undefined;
      if (!rec || rec.end > size) break;
      offset = rec.end;
      this.pendingCount++;
    }
    this.fileEnd = offset;
    if (offset < size) ftruncateSync(this.fd, offset);
    if (this.pendingCount === 0) {
      ftruncateSync(this.fd, HEADER);
      this.readOffset = this.fileEnd = HEADER;
      this.writeHeader(HEADER);
    }
  }
}

const HEADER = 8;

function writeAll(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}
