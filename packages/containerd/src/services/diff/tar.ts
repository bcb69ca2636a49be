/**
 * A small tar reader and writer for image layers: ustar headers, PAX extended headers
 * (long names and links, big ids and sizes, sub-second times, SCHILY.xattr) and GNU long
 * names when reading. Streams: the reader never holds more than one entry's chunk.
 */

export type EntryType = "file" | "link" | "symlink" | "char" | "block" | "dir" | "fifo";

export interface TarHeader {
  /** Path inside the archive as written (no leading "./" handling here). */
  name: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, fractional when PAX gave more. */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

/** A header with the defaults of a plain root-owned file, overridden by `h`. */
export function headerOf(h: Partial<TarHeader> & { name: string }): TarHeader {
  return {
    type: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    linkname: "",
    uname: "",
    gname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: {},
    ...h,
  };
}

const BLOCK = 512;
const TYPES: Record<string, EntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "link",
  "2": "symlink",
  "3": "char",
  "4": "block",
  "5": "dir",
  "6": "fifo",
};
const FLAGS: Record<EntryType, string> = {
  file: "0",
  link: "1",
  symlink: "2",
  char: "3",
  block: "4",
  dir: "5",
  fifo: "6",
};
const XATTR = "SCHILY.xattr.";

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  private buf = Buffer.alloc(0);
  private readonly it: AsyncIterator<Uint8Array>;
  private done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Up to `max` bytes (fewer only at the end of the stream; empty at the end). */
  async some(max: number): Promise<Buffer> {
    while (this.buf.length === 0 && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = Buffer.from(r.value);
    }
    const out = this.buf.subarray(0, max);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  async exact(n: number): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const b = await this.some(n - got);
      if (b.length === 0) return got === 0 ? undefined : unexpectedEnd();
      parts.push(b);
      got += b.length;
    }
    return Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const b = await this.some(n);
      if (b.length === 0) unexpectedEnd();
      n -= b.length;
    }
  }

  /** Reads whatever is left (a layer's trailing padding counts towards its digest). */
  async drain(): Promise<void> {
    while ((await this.some(1 << 16)).length > 0);
  }
}

function unexpectedEnd(): never {
  throw new Error("unexpected end of tar stream");
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

function readString(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString("utf8");
}

/** Octal, or GNU base-256 when the high bit of the first byte is set. */
function readNumber(b: Buffer, start: number, len: number): number {
  const field = b.subarray(start, start + len);
  if (field[0]! & 0x80) {
    let n = field[0]! & 0x7f;
    for (const byte of field.subarray(1)) n = n * 256 + byte;
    return n;
  }
  const text = field
    .toString("latin1")
    .replace(/[\0 ]+/g, " ")
    .trim();
  return text === "" ? 0 : parseInt(text, 8);
}

function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(body.subarray(pos, space).toString("latin1"), 10);
    if (!(len > 0)) break;
    const record = body.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq >= 0) out.set(record.subarray(0, eq).toString("utf8"), record.subarray(eq + 1));
    pos += len;
  }
  return out;
}

function checksumOk(block: Buffer): boolean {
  const stored = readNumber(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return stored === sum;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; what is not read is skipped before the next entry. */
  body(): AsyncGenerator<Buffer>;
}

/** Iterates the entries of a tar stream, then reads the stream to its end. */
export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source);
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.exact(BLOCK);
    if (!block || block.every((b) => b === 0)) break;
    if (!checksumOk(block)) throw new Error("tar header checksum mismatch");
    const flag = String.fromCharCode(block[156]!);
    let size = readNumber(block, 124, 12);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      const body = (await r.exact(size)) ?? unexpectedEnd();
      await r.skip(padding(size));
      // a global header's values would apply to every entry; layers do not use them
      if (flag === "x") pax = parsePax(body);
      else if (flag === "L") longName = readString(body, 0, body.length);
      else if (flag === "K") longLink = readString(body, 0, body.length);
      continue;
    }
    const type = TYPES[flag];
    const prefix =
      block.subarray(257, 262).toString("latin1") === "ustar" ? readString(block, 345, 155) : "";
    const shortName = readString(block, 0, 100);
    const text = (k: string) => pax.get(k)?.toString("utf8");
    const num = (k: string) => (pax.has(k) ? Number(text(k)) : undefined);
    size = num("size") ?? size;
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of pax) if (k.startsWith(XATTR)) xattrs[k.slice(XATTR.length)] = v;
    const header: TarHeader = {
      name: text("path") ?? longName ?? (prefix ? `${prefix}/${shortName}` : shortName),
      type: type ?? "file",
      mode: readNumber(block, 100, 8) & 0o7777,
      uid: num("uid") ?? readNumber(block, 108, 8),
      gid: num("gid") ?? readNumber(block, 116, 8),
      size: type === "file" || type === undefined ? size : 0,
      mtime: num("mtime") ?? readNumber(block, 136, 12),
      linkname: text("linkpath") ?? longLink ?? readString(block, 157, 100),
      uname: text("uname") ?? readString(block, 265, 32),
      gname: text("gname") ?? readString(block, 297, 32),
      devmajor: readNumber(block, 329, 8),
      devminor: readNumber(block, 337, 8),
      xattrs,
    };
    pax = new Map();
    longName = longLink = undefined;
    let left = size;
    const body = async function* (): AsyncGenerator<Buffer> {
      while (left > 0) {
        const b = await r.some(Math.min(left, 1 << 16));
        if (b.length === 0) unexpectedEnd();
        left -= b.length;
        yield b;
      }
    };
    if (type === undefined) {
      // an entry type layers do not carry (sparse, volume label...): skipped whole
      await r.skip(size + padding(size));
      continue;
    }
    yield { header, body };
    await r.skip(left + padding(size));
  }
  await r.drain();
}

function writeString(b: Buffer, start: number, len: number, s: string): void {
  b.write(s, start, len, "utf8");
}

function writeOctal(b: Buffer, start: number, len: number, n: number): void {
  b.write(n.toString(8).padStart(len - 1, "0") + "\0", start, len, "latin1");
}

const fitsOctal = (n: number, len: number) => Number.isInteger(n) && n >= 0 && n < 8 ** (len - 1);

function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function headerBlock(h: Omit<TarHeader, "type" | "xattrs"> & { flag: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, 0, 100, h.name);
  writeOctal(b, 100, 8, h.mode);
  writeOctal(b, 108, 8, fitsOctal(h.uid, 8) ? h.uid : 0);
  writeOctal(b, 116, 8, fitsOctal(h.gid, 8) ? h.gid : 0);
  writeOctal(b, 124, 12, fitsOctal(h.size, 12) ? h.size : 0);
  writeOctal(b, 136, 12, Math.max(0, Math.floor(h.mtime)));
  b.write(h.flag, 156, 1, "latin1");
  writeString(b, 157, 100, h.linkname);
  b.write("ustar\u000000", 257, 8, "latin1");
  writeString(b, 265, 32, h.uname);
  writeString(b, 297, 32, h.gname);
  writeOctal(b, 329, 8, h.devmajor);
  writeOctal(b, 337, 8, h.devminor);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "latin1");
  return b;
}

/**
 * The header block(s) of one entry: a PAX header first when a name, link, id or size does
 * not fit ustar, or when there are xattrs. The caller writes `size` data bytes and then
 * `tarPadding(size)`.
 */
export function tarHeader(h: TarHeader): Buffer {
  const records: Buffer[] = [];
  const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);
  const name = h.type === "dir" && !h.name.endsWith("/") ? `${h.name}/` : h.name;
  if (Buffer.byteLength(name) > 100 || !ascii(name))
    records.push(paxRecord("path", Buffer.from(name)));
  if (Buffer.byteLength(h.linkname) > 100 || !ascii(h.linkname)) {
    records.push(paxRecord("linkpath", Buffer.from(h.linkname)));
  }
  if (!fitsOctal(h.uid, 8)) records.push(paxRecord("uid", Buffer.from(String(h.uid))));
  if (!fitsOctal(h.gid, 8)) records.push(paxRecord("gid", Buffer.from(String(h.gid))));
  if (!fitsOctal(h.size, 12)) records.push(paxRecord("size", Buffer.from(String(h.size))));
  for (const [k, v] of Object.entries(h.xattrs).sort(([a], [b]) => (a < b ? -1 : 1))) {
    records.push(paxRecord(XATTR + k, v));
  }
  const main = headerBlock({ ...h, name, flag: FLAGS[h.type] });
  if (records.length === 0) return main;
  const body = Buffer.concat(records);
  const pax = headerBlock({
    ...h,
    name: `PaxHeaders.0/${name}`.slice(0, 100),
    flag: "x",
    mode: 0o644,
    size: body.length,
    linkname: "",
  });
  return Buffer.concat([pax, body, Buffer.alloc(padding(body.length)), main]);
}

export const tarPadding = (size: number): Buffer => Buffer.alloc(padding(size));

/** The end of an archive: two zero blocks. */
export const tarEnd = (): Buffer => Buffer.alloc(2 * BLOCK);
