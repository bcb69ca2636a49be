import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { dirname } from "node:path";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { ErrorKind, errFailedPrecondition, kindOf } from "@containerd-ts/errdefs";
import { toConnectError } from "@containerd-ts/errdefs/grpc.js";
import type { DaemonConfig } from "./config.js";
import type { DaemonContext, Logger } from "./context.js";
import { EventExchange } from "./events/index.js";
import { registerContainersService } from "./services/containers/grpc.js";
import { registerContentService } from "./services/content/grpc.js";
import { ContainerService } from "./services/containers/domain.js";
import { registerEventsService } from "./services/events/grpc.js";
import { registerEventHistoryService } from "./services/history/grpc.js";
import { registerHealthService } from "./services/health/grpc.js";
import { registerImagesService } from "./services/images/grpc.js";
import { registerSnapshotsService } from "./services/snapshots/grpc.js";
import { registerDiffService } from "./services/diff/grpc.js";
import { builtinPlugins } from "./services/introspection/domain.js";
import { registerIntrospectionService } from "./services/introspection/grpc.js";
import { LeaseService } from "./services/leases/domain.js";
import { registerLeasesService } from "./services/leases/grpc.js";
import { NamespaceService } from "./services/namespaces/domain.js";
import { registerNamespacesService } from "./services/namespaces/grpc.js";
import { registerVersionService } from "./services/version/grpc.js";
import { acquireRootLock, MetadataStore, type RootLock } from "./store/index.js";
// daemon-tasks: Tasks service, ttrpc events server and shim recovery
import { registerTasksService, tasksLifecycle } from "./runtime/lifecycle.js";

/** Adds one gRPC service to the router. */
export type ServiceRegistration = (router: ConnectRouter, ctx: DaemonContext) => void;

/** Something with a life of its own inside the daemon (the runtime manager, ttrpc events). */
export interface LifecycleHook {
  name: string;
  /** Runs after the store is open and before the gRPC socket accepts calls. */
  start(ctx: DaemonContext): Promise<void>;
  /** Runs on shutdown, in reverse order, before the store closes. */
  stop(): Promise<void>;
}

/** Every gRPC service the daemon serves. Other parts of the daemon append theirs here. */
export const serviceRegistrations: ServiceRegistration[] = [
  registerVersionService,
  registerNamespacesService,
  registerContainersService,
  registerLeasesService,
  registerEventsService,
  registerEventHistoryService, // containerd-ts extension: stored history
  registerIntrospectionService,
  registerHealthService,
  registerTasksService, // daemon-tasks
  registerContentService,
  registerImagesService,
  registerSnapshotsService,
  registerDiffService,
];

/** Lifecycle hooks started in order and stopped in reverse. */
export const lifecycleHooks: LifecycleHook[] = [tasksLifecycle /* daemon-tasks */];

const LEASE_SWEEP_MS = 60_000;
const SHUTDOWN_GRACE_MS = 2_000;

/** grpc-go's percent-encoding of grpc-message. */
function encodeGrpcMessage(msg: string): string {
  return Array.from(Buffer.from(msg, "utf8"))
    .map((b) =>
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, "0")}`,
    )
    .join("");
}

/** The single place where thrown errors become gRPC statuses (and get logged). */
function errorInterceptor(log: Logger): Interceptor {
  const convert = (err: unknown, procedure: string) => {
    const kind = kindOf(err);
    if (kind === ErrorKind.Unknown || kind === ErrorKind.Internal) {
      log.error("request failed", { method: procedure, error: err });
    } else {
      log.debug("request failed", { method: procedure, error: err });
    }
    return toConnectError(err);
  };
  return (next) => async (req) => {
    const procedure = req.url.slice(req.url.lastIndexOf("/", req.url.lastIndexOf("/") - 1));
    log.trace("request", { method: procedure });
    try {
      const res = await next(req);
      if (!res.stream) return res;
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* messages;
          } catch (err) {
            throw convert(err, procedure);
          }
        })(),
      };
    } catch (err) {
      throw convert(err, procedure);
    }
  };
}

/** Whether some process accepts connections on the unix socket. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (alive: boolean) => {
      s.destroy();
      resolve(alive);
    };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/** Removes a socket left by a dead daemon; refuses if a live one answers on it. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw errFailedPrecondition(`${path} exists and is not a socket`);
  if (await socketAnswers(path)) {
    throw errFailedPrecondition(`another daemon is serving on ${path}`);
  }
  unlinkSync(path);
}

/** Builds the domain objects over an open store. */
export function createDaemonContext(
  config: DaemonConfig,
  store: MetadataStore,
  log: Logger,
  shutdown: AbortSignal,
): DaemonContext {
  const events = new EventExchange(store, config.events.retention);
  const namespaces = new NamespaceService(store, events);
  const containers = new ContainerService(store, events, namespaces);
  const leases = new LeaseService(store, namespaces);
  const plugins = builtinPlugins(config);
  return { config, store, namespaces, containers, leases, events, plugins, log, shutdown };
}

/** A running containerd-ts: the store, the gRPC server on the unix socket and the hooks. */
export class Daemon {
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly ctx: DaemonContext,
    private readonly server: http2.Http2Server,
    private readonly sessions: Set<http2.ServerHttp2Session>,
    private readonly started: LifecycleHook[],
    private readonly lock: RootLock,
    private readonly abort: AbortController,
    private readonly timers: NodeJS.Timeout[],
  ) {}

  static async start(config: DaemonConfig, log: Logger): Promise<Daemon> {
    for (const dir of [config.root, config.state]) mkdirSync(dir, { recursive: true, mode: 0o711 });
    mkdirSync(dirname(config.address), { recursive: true, mode: 0o711 });
    const lock = acquireRootLock(config.root);
    let store: MetadataStore | undefined;
    const started: LifecycleHook[] = [];
    try {
      await clearStaleSocket(config.address);
      store = MetadataStore.openRoot(config.root, { synchronous: config.metadata.synchronous });
      const abort = new AbortController();
      const ctx = createDaemonContext(config, store, log, abort.signal);
      ctx.leases.sweepExpired();
      for (const hook of lifecycleHooks) {
        log.debug("starting", { hook: hook.name });
        await hook.start(ctx);
        started.push(hook);
      }
      const { server, sessions } = await listen(ctx);
      const sweep = setInterval(() => {
        try {
          ctx.leases.sweepExpired();
        } catch (err) {
          log.warn("lease sweep failed", { error: err });
        }
      }, LEASE_SWEEP_MS);
      sweep.unref();
      log.info("containerd-ts successfully booted", { address: config.address, root: config.root });
      return new Daemon(ctx, server, sessions, started, lock, abort, [sweep]);
    } catch (err) {
      for (const hook of started.reverse()) await hook.stop().catch(() => undefined);
      store?.close();
      lock.release();
      throw err;
    }
  }

  /** Stops accepting calls, ends streams, stops hooks, closes the store; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { ctx } = this;
    ctx.log.info("stopping");
    for (const t of this.timers) clearInterval(t);
    this.abort.abort();
    ctx.events.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions) s.close();
    const grace = setTimeout(() => {
      for (const s of this.sessions) s.destroy();
    }, SHUTDOWN_GRACE_MS);
    await closed;
    clearTimeout(grace);
    for (const hook of [...this.started].reverse()) {
      try {
        await hook.stop();
      } catch (err) {
        ctx.log.warn("hook failed to stop", { hook: hook.name, error: err });
      }
    }
    ctx.store.close();
    try {
      unlinkSync(ctx.config.address);
    } catch {
      // already gone
    }
    this.lock.release();
    ctx.log.info("stopped");
  }
}

async function listen(
  ctx: DaemonContext,
): Promise<{ server: http2.Http2Server; sessions: Set<http2.ServerHttp2Session> }> {
  let known = new Set<string>();
  const handler = connectNodeAdapter({
    grpc: true,
    connect: false,
    grpcWeb: false,
    readMaxBytes: ctx.config.maxRecvMessageSize,
    interceptors: [errorInterceptor(ctx.log)],
    routes: (router) => {
      for (const register of serviceRegistrations) register(router, ctx);
      known = new Set(router.handlers.map((h) => h.service.typeName));
    },
    // grpc-go answers unknown services/methods with status 12 in a trailers-only response
    fallback: (req, res) => {
      const [, service = "", method = ""] = (req.url ?? "").split("?")[0]!.split("/");
      const msg = known.has(service)
        ? `unknown method ${method} for service ${service}`
        : `unknown service ${service}`;
      ctx.log.debug("unimplemented", { path: req.url });
      const headers = {
        "content-type": "application/grpc",
        "grpc-status": "12",
        "grpc-message": encodeGrpcMessage(msg),
      };
      // one HEADERS frame with END_STREAM (trailers-only); the compat API's writeHead+end
      // would send an empty DATA frame and grpc-go then misses the trailers.
      // The server is HTTP/2 only, so the response is always an Http2ServerResponse.
      (res as http2.Http2ServerResponse).stream.respond(
        { ":status": 200, ...headers },
        { endStream: true },
      );
    },
  });
  // nghttp2 refuses (ENHANCE_YOUR_CALM) once a session buffers more than maxSessionMemory
  // MB; leave room for a full-size message so the size cap answers ResourceExhausted.
  const maxSessionMemory = Math.max(
    10,
    2 * Math.ceil(ctx.config.maxRecvMessageSize / (1 << 20)) + 8,
  );
  const server = http2.createServer({ maxSessionMemory }, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(ctx.config.address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  chmodSync(ctx.config.address, 0o660);
  return { server, sessions };
}
