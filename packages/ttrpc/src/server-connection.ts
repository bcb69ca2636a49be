import type { Socket } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GrpcCode } from "@containerd-ts/errdefs";
import {
  RequestSchema,
  ResponseSchema,
  type Request,
} from "@containerd-ts/gen/ttrpc/request_pb.js";
import { StatusSchema } from "@containerd-ts/gen/google/rpc/status_pb.js";
import {
  FrameDecoder,
  MAX_PAYLOAD_LENGTH,
  MessageType,
  encodeFrame,
  type FrameEvent,
} from "./frame.js";
import { metadataFromWire } from "./metadata.js";
import type { ServiceRegistry } from "./registry.js";
import { errorToStatus, StatusError, type StatusLike } from "./status.js";

/** A frame that breaks the protocol; it ends the connection it came on. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(`ttrpc: ${message}`);
    this.name = "ProtocolError";
  }
}

/** Errors that only mean "the peer went away". */
const benignSocketErrors = new Set(["ECONNRESET", "EPIPE"]);

/**
 * One accepted connection: decodes requests, runs them concurrently, writes responses
 * on the request's stream id. Never throws into the event loop — failures end this
 * connection and are reported through onError.
 */
export class ServerConnection {
  private readonly decoder = new FrameDecoder();
  private readonly inflight = new Map<number, AbortController>();
  private ending = false;
  readonly done: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly registry: ServiceRegistry,
    private readonly onError: (err: unknown) => void,
  ) {
    this.done = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onEnd());
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (!benignSocketErrors.has(err.code ?? "")) this.onError(err);
    });
    socket.on("close", () => this.abortAll());
  }

  /** Ends the connection: in-flight handlers see their signal aborted, queued responses are flushed. */
  end(): void {
    this.ending = true;
    this.abortAll();
    this.socket.end();
    // A peer that never reads must not keep the connection half-open forever.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  get idle(): boolean {
    return this.inflight.size === 0;
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    let events: FrameEvent[];
    try {
      events = this.decoder.push(chunk);
    } catch (err) {
      this.fail(new ProtocolError(`undecodable frame: ${String(err)}`));
      return;
    }
    for (const ev of events) {
      if (this.ending) return;
      this.onFrame(ev);
    }
  }

  private onFrame(ev: FrameEvent): void {
    const { header } = ev;
    if (ev.kind === "oversize") {
      // Like Go: the payload is skipped and only this call fails; the connection lives on.
      this.respond(header.streamId, {
        code: GrpcCode.ResourceExhausted,
        message: `message length ${header.length} exceed maximum message size of ${MAX_PAYLOAD_LENGTH}`,
      });
      return;
    }
    if (header.type !== MessageType.Request) {
      this.fail(
        new ProtocolError(`unexpected message type ${header.type} on stream ${header.streamId}`),
      );
      return;
    }
    if (header.streamId % 2 !== 1) {
      this.fail(
        new ProtocolError("StreamID must be odd for client initiated streams"),
        header.streamId,
      );
      return;
    }
    if (this.inflight.has(header.streamId)) {
      this.fail(new ProtocolError(`stream ${header.streamId} is already in use`), header.streamId);
      return;
    }
    let req: Request;
    try {
      req = fromBinary(RequestSchema, ev.payload);
    } catch (err) {
      this.fail(
        new ProtocolError(`unmarshal request error: ${(err as Error).message}`),
        header.streamId,
      );
      return;
    }
    void this.dispatch(header.streamId, req);
  }

  private async dispatch(streamId: number, req: Request): Promise<void> {
    const controller = new AbortController();
    this.inflight.set(streamId, controller);
    const timeoutMs = req.timeoutNano > 0n ? Number(req.timeoutNano / 1_000_000n) : undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      if (timeoutMs === undefined) return;
      timer = setTimeout(() => {
        controller.abort(new StatusError(GrpcCode.DeadlineExceeded, "context deadline exceeded"));
        reject(controller.signal.reason);
      }, timeoutMs);
    });
    deadline.catch(() => {}); // only observed through the race below
    try {
      const ctx = {
        metadata: metadataFromWire(req.metadata),
        signal: controller.signal,
        timeoutMs,
        fullMethod: `/${req.service}/${req.method}`,
      };
      const call = this.registry.call(req.service, req.method, req.payload, ctx);
      const payload = await Promise.race([call, deadline]);
      this.respond(streamId, { code: GrpcCode.OK, message: "" }, payload);
    } catch (err) {
      this.respond(streamId, errorToStatus(err));
    } finally {
      clearTimeout(timer);
      this.inflight.delete(streamId);
    }
  }

  private respond(streamId: number, status: StatusLike, payload?: Uint8Array): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    // Go leaves the status out of successful responses; match it byte for byte.
    const response = create(ResponseSchema, {
      status: status.code === GrpcCode.OK ? undefined : create(StatusSchema, status),
      payload: payload ?? new Uint8Array(0),
    });
    const bytes = toBinary(ResponseSchema, response);
    if (bytes.length > MAX_PAYLOAD_LENGTH) {
      this.respond(streamId, {
        code: GrpcCode.ResourceExhausted,
        message: `message length ${bytes.length} exceed maximum message size of ${MAX_PAYLOAD_LENGTH}`,
      });
      return;
    }
    this.socket.write(encodeFrame(streamId, MessageType.Response, bytes));
  }

  /** A bad frame: answer its stream (if it has one) with InvalidArgument, then end this connection. */
  private fail(err: ProtocolError, streamId?: number): void {
    this.onError(err);
    if (streamId !== undefined)
      this.respond(streamId, { code: GrpcCode.InvalidArgument, message: err.message });
    this.end();
  }

  private onEnd(): void {
    if (!this.ending && this.decoder.pendingBytes > 0) {
      this.onError(
        new ProtocolError(
          `connection ended inside a frame (${this.decoder.pendingBytes} bytes pending)`,
        ),
      );
    }
    // As in Go, a client that hung up gets no further answers (the socket is not half-open).
    this.ending = true;
    this.abortAll();
  }

  private abortAll(): void {
    for (const c of this.inflight.values()) {
      if (!c.signal.aborted)
        c.abort(new StatusError(GrpcCode.Canceled, "ttrpc: connection closed"));
    }
  }
}
