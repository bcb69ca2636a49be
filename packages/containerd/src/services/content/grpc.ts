import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { errInvalidArgument } from "@containerd-ts/errdefs";
import {
  Content,
  type WriteContentRequest,
} from "@containerd-ts/gen/containerd/services/content/v1/content_pb.js";
import { requireNamespace, type DaemonContext } from "../../context.js";
import { digestError, requireDigest } from "./digest.js";
import { addPlugins, type PluginInfo } from "../introspection/domain.js";
import {
  contentServiceFor,
  OutOfRangeError,
  type ContentRecord,
  type IngestStatus,
} from "./domain.js";
import { writeSession, type WriteRequest, type WriteResponse } from "./write-session.js";

/** gRPC metadata key naming the lease a call's new content belongs to. */
export const LEASE_HEADER = "containerd-lease";

/** containerd's List sends infos in blocks of this many. */
const LIST_BLOCK = 100;

const infoToProto = (c: ContentRecord) => ({
  digest: c.digest,
  size: BigInt(c.size),
  createdAt: timestampFromDate(c.createdAt),
  updatedAt: timestampFromDate(c.updatedAt),
  labels: c.labels,
});

const statusToProto = (s: IngestStatus) => ({
  ref: s.ref,
  offset: BigInt(s.offset),
  total: BigInt(s.total),
  startedAt: timestampFromDate(s.startedAt),
  updatedAt: timestampFromDate(s.updatedAt),
  expected: s.expected ?? "",
});

const writeResponseToProto = (r: WriteResponse) => ({
  action: r.action,
  offset: BigInt(r.offset),
  total: BigInt(r.total),
  digest: r.digest,
  startedAt: r.startedAt && timestampFromDate(r.startedAt),
  updatedAt: r.updatedAt && timestampFromDate(r.updatedAt),
});

async function* writeRequests(
  requests: AsyncIterable<WriteContentRequest>,
): AsyncGenerator<WriteRequest> {
  for await (const r of requests) {
    yield {
      action: r.action,
      ref: r.ref,
      total: Number(r.total),
      expected: r.expected,
      offset: Number(r.offset),
      data: r.data,
      labels: r.labels,
    };
  }
}

/** OutOfRange has no error kind of its own; it becomes gRPC code 11 here. */
function outOfRange(err: unknown): unknown {
  return err instanceof OutOfRangeError ? new ConnectError(err.message, Code.OutOfRange) : err;
}

/** What Introspection lists for the content store and its service. */
function contentPlugins(root: string): PluginInfo[] {
  return [
    { type: "io.containerd.content.v1", id: "content", exports: { root } },
    {
      type: "io.containerd.grpc.v1",
      id: "content",
      requires: ["io.containerd.event.v1", "io.containerd.metadata.v1"],
    },
  ];
}

/** containerd.services.content.v1.Content over the daemon's ContentService. */
export function registerContentService(router: ConnectRouter, ctx: DaemonContext): void {
  const content = contentServiceFor(ctx);
  addPlugins(ctx.plugins, contentPlugins(content.blobs.root));
  // containerd collects garbage once shortly after start-up; here before the first call
  try {
    const removed = content.collectGarbage();
    ctx.log.debug("start-up garbage collection", removed);
  } catch (err) {
    ctx.log.warn("start-up garbage collection failed", { error: err });
  }
  const ns = (call: { requestHeader: Headers }) => requireNamespace(call.requestHeader);
  const lease = (call: { requestHeader: Headers }) =>
    call.requestHeader.get(LEASE_HEADER) || undefined;
  router.service(Content, {
    info: (req, call) => ({
      info: infoToProto(content.info(ns(call), requireDigest(req.digest))),
    }),
    update: (req, call) => {
      const digest = requireDigest(req.info?.digest ?? "");
      const labels = req.info?.labels ?? {};
      const paths = req.updateMask?.paths ?? [];
      return { info: infoToProto(content.update(ns(call), { digest, labels }, paths)) };
    },
    async *list(req, call) {
      // containerd's List leaves updated_at out
      const infos = content
        .list(ns(call), req.filters)
        .map((c) => ({ ...infoToProto(c), updatedAt: undefined }));
      for (let i = 0; i < infos.length; i += LIST_BLOCK) {
        yield { info: infos.slice(i, i + LIST_BLOCK) };
      }
    },
    delete: (req, call) => {
      const problem = digestError(req.digest);
      if (problem) throw errInvalidArgument(problem);
      content.delete(ns(call), req.digest, lease(call));
      return {};
    },
    async *read(req, call) {
      const problem = digestError(req.digest);
      if (problem) throw errInvalidArgument(`${req.digest}: ${problem}`);
      let range;
      try {
        range = content.readRange(ns(call), req.digest, Number(req.offset), Number(req.size));
      } catch (err) {
        throw outOfRange(err);
      }
      // containerd numbers the chunks from 0, not from the requested offset
      let offset = 0;
      for await (const data of range.chunks) {
        yield { offset: BigInt(offset), data };
        offset += data.length;
      }
    },
    status: (req, call) => ({ status: statusToProto(content.status(ns(call), req.ref)) }),
    listStatuses: (req, call) => ({
      statuses: content.listStatuses(ns(call), req.filters).map(statusToProto),
    }),
    async *write(requests, call) {
      const session = writeSession(content, ns(call), lease(call), writeRequests(requests));
      try {
        for await (const r of session) yield writeResponseToProto(r);
      } catch (err) {
        throw outOfRange(err);
      }
    },
    abort: (req, call) => {
      content.abort(ns(call), req.ref, lease(call));
      return {};
    },
  });
}
