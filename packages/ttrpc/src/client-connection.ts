import { createConnection, type Socket } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContainerdError, ErrorKind, fromGrpcStatus, GrpcCode } from "@containerd-ts/errdefs";
import { RequestSchema, ResponseSchema } from "@containerd-ts/gen/ttrpc/request_pb.js";
import {
  FrameDecoder,
  MAX_PAYLOAD_LENGTH,
  MessageType,
  encodeFrame,
  type FrameEvent,
} from "./frame.js";
import { metadataToWire, type MetadataInit } from "./metadata.js";
import { errCanceled, errClosed, errDeadlineExceeded } from "./status.js";

export interface TtrpcCallOptions {
  /** Sent as Request.timeout_nano and enforced locally (→ DeadlineExceeded). */
  timeoutMs?: number;
  metadata?: MetadataInit;
  /** Aborting gives up on the call (→ Canceled). */
  signal?: AbortSignal;
}

/** One client connection; calls on it run concurrently on odd stream ids 1, 3, 5, … */
export interface TtrpcConnection {
  /** A raw unary call: payload bytes in, payload bytes out; failures are ContainerdError. */
  call(
    service: string,
    method: string,
    payload: Uint8Array,
    opts?: TtrpcCallOptions,
  ): Promise<Uint8Array>;
  close(): void;
  /** Settles when the connection is gone (closed by us, the peer, or an error). */
  readonly closed: Promise<void>;
}

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: unknown): void;
}

/** `unix:///run/x.sock` → `/run/x.sock` (containerd writes socket addresses with a scheme). */
export function socketPathOf(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}

/** Dials a ttrpc server on a unix socket; refused or timed out → Unavailable. */
export function dialTtrpc(
  address: string,
  opts: { timeoutMs?: number } = {},
): Promise<TtrpcConnection> {
  const path = socketPathOf(address);
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            socket.destroy();
            reject(new ContainerdError(ErrorKind.Unavailable, `ttrpc: dial ${path}: timeout`));
          }, opts.timeoutMs);
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(
        new ContainerdError(ErrorKind.Unavailable, `ttrpc: dial ${path}: ${err.message}`, {
          cause: err,
        }),
      );
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(new ClientConnection(socket));
    });
  });
}

/** The client side over an already connected socket. */
export class ClientConnection implements TtrpcConnection {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextStreamId = 1;
  private failure: unknown;
  readonly closed: Promise<void>;

  constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => {
      this.failure ??= err;
    });
    socket.on("close", () => this.abortAll(errClosed(this.failure)));
  }

  call(
    service: string,
    method: string,
    payload: Uint8Array,
    opts: TtrpcCallOptions = {},
  ): Promise<Uint8Array> {
    if (this.socket.destroyed || !this.socket.writable)
      return Promise.reject(errClosed(this.failure));
    if (opts.signal?.aborted) return Promise.reject(errCanceled());
    const request = create(RequestSchema, {
      service,
      method,
      payload,
      timeoutNano: opts.timeoutMs !== undefined ? BigInt(Math.round(opts.timeoutMs * 1e6)) : 0n,
      metadata: metadataToWire(opts.metadata),
    });
    const bytes = toBinary(RequestSchema, request);
    if (bytes.length > MAX_PAYLOAD_LENGTH) {
      return Promise.reject(
        new ContainerdError(
          ErrorKind.ResourceExhausted,
          `message length ${bytes.length} exceed maximum message size of ${MAX_PAYLOAD_LENGTH}`,
        ),
      );
    }
    const streamId = this.nextStreamId;
    this.nextStreamId = (this.nextStreamId + 2) >>> 0;
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(errCanceled()));
      const settle = (fn: () => void) => {
        if (!this.pending.delete(streamId)) return;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        fn();
      };
      this.pending.set(streamId, {
        resolve: (p) => settle(() => resolve(p)),
        reject: (e) => settle(() => reject(e)),
      });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => settle(() => reject(errDeadlineExceeded())), opts.timeoutMs);
      }
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      this.socket.write(encodeFrame(streamId, MessageType.Request, bytes));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let events: FrameEvent[];
    try {
      events = this.decoder.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    for (const ev of events) this.onFrame(ev);
  }

  private onFrame(ev: FrameEvent): void {
    const call = this.pending.get(ev.header.streamId);
    if (ev.kind === "oversize") {
      call?.reject(
        new ContainerdError(
          ErrorKind.ResourceExhausted,
          `message length ${ev.header.length} exceed maximum message size of ${MAX_PAYLOAD_LENGTH}`,
        ),
      );
      return;
    }
    if (ev.header.type !== MessageType.Response) {
      this.fail(new Error(`ttrpc: unexpected message type ${ev.header.type} from server`));
      return;
    }
    if (!call) return; // the caller already gave up (timeout/abort)
    try {
      const response = fromBinary(ResponseSchema, ev.payload);
      const status = response.status;
      if (status && status.code !== GrpcCode.OK)
        call.reject(fromGrpcStatus(status.code, status.message));
      else call.resolve(response.payload);
    } catch (err) {
      call.reject(
        new ContainerdError(ErrorKind.Internal, `ttrpc: undecodable response: ${String(err)}`),
      );
    }
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.socket.destroy();
  }

  private abortAll(err: unknown): void {
    for (const call of [...this.pending.values()]) call.reject(err);
  }
}
