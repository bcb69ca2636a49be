/**
 * ttrpc 1.1 wire framing: a 10-byte header (uint32 BE payload length, uint32 BE stream id,
 * uint8 message type, uint8 flags) followed by the payload.
 */

export const HEADER_LENGTH = 10;
/** Payloads above 4 MiB are refused by every ttrpc peer. */
export const MAX_PAYLOAD_LENGTH = 4 << 20;

export const MessageType = {
  Request: 1,
  Response: 2,
} as const;

export interface FrameHeader {
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

export function encodeHeader(h: FrameHeader): Buffer {
  const b = Buffer.allocUnsafe(HEADER_LENGTH);
  b.writeUInt32BE(h.length >>> 0, 0);
  b.writeUInt32BE(h.streamId >>> 0, 4);
  b.writeUInt8(h.type & 0xff, 8);
  b.writeUInt8(h.flags & 0xff, 9);
  return b;
}

export function decodeHeader(b: Buffer): FrameHeader {
  return {
    length: b.readUInt32BE(0),
    streamId: b.readUInt32BE(4),
    type: b.readUInt8(8),
    flags: b.readUInt8(9),
  };
}

/** One complete frame (header + payload) ready to write. */
export function encodeFrame(
  streamId: number,
  type: number,
  payload: Uint8Array,
  flags = 0,
): Buffer {
  const header = encodeHeader({ length: payload.length, streamId, type, flags });
  return Buffer.concat([header, payload]);
}

export type FrameEvent =
  | { kind: "frame"; header: FrameHeader; payload: Buffer }
  /** The header announced more than MAX_PAYLOAD_LENGTH; its payload is being skipped. */
  | { kind: "oversize"; header: FrameHeader };

/**
 * Incremental decoder: feed it socket chunks, get whole frames back. Oversized payloads are
 * never buffered — they are skipped as they arrive, like the Go implementation discards them.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: FrameHeader | undefined;
  private skipping = 0;

  /** Bytes of an unfinished frame (non-zero at end of stream means a truncated frame). */
  get pendingBytes(): number {
    return this.buffered + this.skipping + (this.header ? HEADER_LENGTH : 0);
  }

  push(chunk: Buffer): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.skipping > 0) {
      const n = Math.min(this.skipping, chunk.length);
      this.skipping -= n;
      chunk = chunk.subarray(n);
    }
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (!this.header) {
        if (this.buffered < HEADER_LENGTH) break;
        const header = decodeHeader(this.take(HEADER_LENGTH));
        if (header.length > MAX_PAYLOAD_LENGTH) {
          events.push({ kind: "oversize", header });
          const n = Math.min(header.length, this.buffered);
          this.take(n);
          this.skipping = header.length - n;
          if (this.skipping > 0) break;
          continue;
        }
        this.header = header;
      }
      if (this.buffered < this.header.length) break;
      const payload = this.take(this.header.length);
      events.push({ kind: "frame", header: this.header, payload });
      this.header = undefined;
    }
    return events;
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }
}
