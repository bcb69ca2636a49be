import { createHash, type Hash } from "node:crypto";
import {
  chmodSync,
  constants,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import {
  errAlreadyExists,
  errFailedPrecondition,
  errNotFound,
  errUnavailable,
} from "@containerd-ts/errdefs";
import { digestParts } from "./digest.js";

/** The state of an unfinished write, as Status/ListStatuses report it. */
export interface IngestStatus {
  ref: string;
  offset: number;
  total: number;
  startedAt: Date;
  updatedAt: Date;
  /** Only for a namespace ingesting a blob the store already holds. */
  expected?: string;
}

/** Read chunk size (containerd's copy buffer). */
export const READ_CHUNK = 1 << 20;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/**
 * containerd's local content store, namespace-blind: committed blobs at
 * blobs/<algorithm>/<hex>, unfinished writes at ingest/<sha256(ref)>/ (ref, startedat,
 * updatedat, total, data). One writer per ref at a time; a second gets Unavailable.
 */
export class BlobStore {
  private readonly locked = new Map<string, Date>();

  constructor(readonly root: string) {
    mkdirSync(join(root, "ingest"), { recursive: true, mode: 0o755 });
    mkdirSync(join(root, "blobs"), { recursive: true, mode: 0o755 });
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = digestParts(digest);
    return join(this.root, "blobs", algorithm, hex);
  }

  /** The size of a committed blob, or undefined when the store does not hold it. */
  size(digest: string): number | undefined {
    try {
      return statSync(this.blobPath(digest)).size;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** Chunks of the blob from `offset`, `size` bytes in all. */
  async *read(digest: string, offset: number, size: number): AsyncGenerator<Uint8Array> {
    if (size <= 0) return;
    const stream = createReadStream(this.blobPath(digest), {
      start: offset,
      end: offset + size - 1,
      highWaterMark: READ_CHUNK,
    });
    for await (const chunk of stream) yield chunk as Buffer;
  }

  /** Removes every committed blob whose digest `keep` refuses; returns how many went. */
  sweepBlobs(keep: (digest: string) => boolean): number {
    const root = join(this.root, "blobs");
    let removed = 0;
    for (const algorithm of readdirSync(root)) {
      for (const hex of readdirSync(join(root, algorithm))) {
        if (keep(`${algorithm}:${hex}`)) continue;
        rmSync(join(root, algorithm, hex), { force: true });
        removed++;
      }
    }
    return removed;
  }

  ingestDir(ref: string): string {
    return join(this.root, "ingest", createHash("sha256").update(ref).digest("hex"));
  }

  status(ref: string): IngestStatus {
    return readStatus(this.ingestDir(ref), ref);
  }

  /**
   * Removes the ingest directories whose ref `keep` refuses (and those without a readable
   * ref), except the ones a writer has open; returns how many went.
   */
  sweepIngests(keep: (ref: string) => boolean): number {
    const dir = join(this.root, "ingest");
    let removed = 0;
    for (const name of readdirSync(dir)) {
      let ref: string | undefined;
      try {
        ref = readFileSync(join(dir, name, "ref"), "utf8");
      } catch {
        // unreadable: a crash between mkdir and writing the ref
      }
      if (ref !== undefined && (keep(ref) || this.locked.has(ref))) continue;
      rmSync(join(dir, name), { recursive: true, force: true });
      removed++;
    }
    return removed;
  }

  /** Drops an unfinished write; NotFound when there is none. */
  abort(ref: string): void {
    const dir = this.ingestDir(ref);
    if (!existsSync(dir)) throw errNotFound(`ingest ref ${JSON.stringify(ref)}: not found`);
    rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Opens (or resumes) the ingest `ref`. A resumed ingest keeps its bytes and start time;
   * its digest is recomputed from the data already written. `total` 0 means unknown.
   */
  async writer(ref: string, total: number): Promise<BlobWriter> {
    const since = this.locked.get(ref);
    if (since) {
      const held = Date.now() - since.getTime();
      throw errUnavailable(
        `ref ${ref} locked for ${held}ms (since ${since.toISOString()}): unavailable`,
      );
    }
    this.locked.set(ref, new Date());
    try {
      return await this.openWriter(ref, total);
    } catch (err) {
      this.locked.delete(ref);
      throw err;
    }
  }

  private async openWriter(ref: string, total: number): Promise<BlobWriter> {
    const dir = this.ingestDir(ref);
    const hash = createHash("sha256");
    let status = resumable(dir, ref, total);
    if (status) {
      status.offset = await hashFile(join(dir, "data"), hash);
    } else {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o755 });
      const now = new Date();
      writeFileSync(join(dir, "ref"), ref);
      writeTimestamp(join(dir, "startedat"), now);
      writeTimestamp(join(dir, "updatedat"), now);
      if (total > 0) writeFileSync(join(dir, "total"), String(total));
      status = { ref, offset: 0, total, startedAt: now, updatedAt: now };
    }
    // positional writes: no O_APPEND, no truncation of a resumed ingest
    const file = await open(join(dir, "data"), constants.O_WRONLY | constants.O_CREAT, 0o644);
    return new BlobWriter(this, dir, file, hash, status, () => this.locked.delete(ref));
  }
}

/** A resumable ingest's status, or undefined when there is nothing valid to resume. */
function resumable(dir: string, ref: string, total: number): IngestStatus | undefined {
  try {
    const s = readStatus(dir, ref);
    if (s.ref !== ref) return undefined;
    if (total > 0 && s.total > 0 && total !== s.total) return undefined;
    return s;
  } catch {
    return undefined;
  }
}

function readStatus(dir: string, ref: string): IngestStatus {
  let dataStat;
  let storedRef: string;
  try {
    dataStat = statSync(join(dir, "data"));
    storedRef = readFileSync(join(dir, "ref"), "utf8");
  } catch (err) {
    if (isMissing(err)) throw errNotFound(`ingest ${JSON.stringify(ref)}: not found`);
    throw err;
  }
  const startedAt = readTimestamp(join(dir, "startedat"));
  let updatedAt = readTimestamp(join(dir, "updatedat"));
  if (dataStat.mtime > updatedAt) updatedAt = dataStat.mtime;
  let total = 0;
  try {
    total = Number.parseInt(readFileSync(join(dir, "total"), "utf8"), 10) || 0;
  } catch {
    // no total recorded: unknown
  }
  return { ref: storedRef, offset: dataStat.size, total, startedAt, updatedAt };
}

function readTimestamp(path: string): Date {
  const d = new Date(readFileSync(path, "utf8"));
  if (Number.isNaN(d.getTime())) throw new Error(`could not parse timestamp file ${path}`);
  return d;
}

/** Written beside, then renamed, so a crash never leaves half a timestamp. */
function writeTimestamp(path: string, at: Date): void {
  writeFileSync(`${path}.tmp`, at.toISOString());
  renameSync(`${path}.tmp`, path);
}

async function hashFile(path: string, hash: Hash): Promise<number> {
  let n = 0;
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) {
      hash.update(chunk as Buffer);
      n += (chunk as Buffer).length;
    }
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  return n;
}

/** One open ingest: appends bytes, keeps the running digest, commits into blobs/. */
export class BlobWriter {
  private closed = false;

  constructor(
    private readonly store: BlobStore,
    private readonly dir: string,
    private file: FileHandle,
    private hash: Hash,
    private readonly state: IngestStatus,
    private readonly unlock: () => void,
  ) {}

  status(): IngestStatus {
    return { ...this.state };
  }

  /** The digest of the bytes written so far. */
  digest(): string {
    return `sha256:${this.hash.copy().digest("hex")}`;
  }

  async write(data: Uint8Array): Promise<number> {
    this.assertOpen();
    const { bytesWritten } = await this.file.write(data, 0, data.length, this.state.offset);
    this.hash.update(data.subarray(0, bytesWritten));
    this.state.offset += bytesWritten;
    this.state.updatedAt = new Date();
    return bytesWritten;
  }

  /** Starts over (containerd only supports truncating to zero). */
  async truncate(): Promise<void> {
    this.assertOpen();
    await this.file.truncate(0);
    this.hash = createHash("sha256");
    this.state.offset = 0;
  }

  /**
   * Verifies size and digest, then moves the data into blobs/ read-only. FailedPrecondition
   * when they do not match; AlreadyExists when the blob is there already (the ingest goes).
   * The writer is closed afterwards either way.
   */
  async commit(size: number, expected: string): Promise<string> {
    this.assertOpen();
    this.closed = true;
    try {
      await this.file.sync();
      const actual = (await this.file.stat()).size;
      await this.file.close();
      if (size > 0 && size !== actual) {
        throw errFailedPrecondition(
          `unexpected commit size ${actual}, expected ${size}: failed precondition`,
        );
      }
      const digest = this.digest();
      if (expected !== "" && expected !== digest) {
        throw errFailedPrecondition(
          `unexpected commit digest ${digest}, expected ${expected}: failed precondition`,
        );
      }
      const target = this.store.blobPath(digest);
      mkdirSync(join(target, ".."), { recursive: true, mode: 0o755 });
      if (existsSync(target)) {
        rmSync(this.dir, { recursive: true, force: true });
        throw errAlreadyExists(`content ${digest}: already exists`);
      }
      renameSync(join(this.dir, "data"), target);
      const now = new Date();
      utimesSync(target, now, now);
      rmSync(this.dir, { recursive: true, force: true });
      chmodSync(target, 0o444);
      return digest;
    } finally {
      this.unlock();
    }
  }

  /** Leaves the ingest on disk for a later resume and releases the ref. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.file.sync();
      await this.file.close();
      writeTimestamp(join(this.dir, "updatedat"), this.state.updatedAt);
    } catch {
      // the ingest may have been aborted meanwhile
    } finally {
      this.unlock();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw errFailedPrecondition("cannot use a closed writer: failed precondition");
  }
}
