import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { ServiceRegistry, type TtrpcServiceImpl } from "./registry.js";
import { ServerConnection } from "./server-connection.js";
import { getPeerCredentials, type PeerCredentials } from "./peercred.js";

export interface TtrpcServerOptions {
  /** Connection-level failures (bad frames, socket errors). The process never crashes on them. */
  onError?: (err: unknown) => void;
  /** SO_PEERCRED check of every accepted connection; false refuses (closes) the connection. */
  checkPeer?: (cred: PeerCredentials) => boolean;
}

/** A ttrpc 1.1 server serving protobuf-es service descriptors over unix sockets. */
export class TtrpcServer {
  private readonly registry = new ServiceRegistry();
  private readonly listeners = new Set<Server>();
  private readonly connections = new Set<ServerConnection>();
  private readonly onError: (err: unknown) => void;
  private closing = false;

  constructor(private readonly opts: TtrpcServerOptions = {}) {
    this.onError = opts.onError ?? (() => {});
  }

  /** Methods missing from impl answer 12 Unimplemented. */
  register<S extends DescService>(service: S, impl: Partial<TtrpcServiceImpl<S>>): void {
    this.registry.register(service, impl);
  }

  /** Creates the unix socket (removing a stale one nobody listens on) and serves it. */
  async listen(socketPath: string, mode?: number): Promise<void> {
    await mkdir(dirname(socketPath), { recursive: true });
    await removeStaleSocket(socketPath);
    const server = this.newListener();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    });
    if (mode !== undefined) await chmod(socketPath, mode);
  }

  /** Serves an inherited, already listening socket (the shim's fd 3). */
  async serveFd(fd: number): Promise<void> {
    const server = this.newListener();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ fd }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting and ends every connection (queued responses are still flushed). */
  async close(): Promise<void> {
    this.closing = true;
    const closes = [...this.listeners].map(
      (l) => new Promise<void>((resolve) => l.close(() => resolve())),
    );
    this.listeners.clear();
    for (const c of this.connections) c.end();
    await Promise.all([...closes, ...[...this.connections].map((c) => c.done)]);
  }

  private newListener(): Server {
    const server = createServer((socket) => this.accept(socket));
    server.on("error", (err) => this.onError(err));
    this.listeners.add(server);
    return server;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.opts.checkPeer && !this.peerAllowed(socket)) {
      socket.destroy();
      return;
    }
    const conn = new ServerConnection(socket, this.registry, this.onError);
    this.connections.add(conn);
    void conn.done.then(() => this.connections.delete(conn));
  }

  private peerAllowed(socket: Socket): boolean {
    try {
      const cred = getPeerCredentials(socket);
      if (this.opts.checkPeer!(cred)) return true;
      this.onError(
        new Error(`ttrpc: invalid credentials: uid ${cred.uid} gid ${cred.gid} refused`),
      );
    } catch (err) {
      this.onError(new Error("ttrpc: failed to retrieve socket peer credentials", { cause: err }));
    }
    return false;
  }
}

async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket())
    throw Object.assign(new Error(`${path} exists and is not a socket`), { code: "EEXIST" });
  const live = await new Promise<boolean>((resolve) => {
    const probe = createConnection(path);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live)
    throw Object.assign(new Error(`listen ${path}: address already in use`), {
      code: "EADDRINUSE",
    });
  await unlink(path);
}
