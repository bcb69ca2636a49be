import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import { errInvalidArgument } from "@containerd-ts/errdefs/errors.js";
import {
  CheckpointOptionsSchema,
  ProcessDetailsSchema,
} from "@containerd-ts/gen/containerd/runc/v1/options_pb.js";
import type { Task } from "@containerd-ts/gen/containerd/task/v2/shim_pb.js";
import { Status } from "@containerd-ts/gen/containerd/v1/types/task_pb.js";
import type { TtrpcServiceImpl } from "@containerd-ts/ttrpc";
import type { ShimProcess } from "./process.js";
import type { TaskService } from "./service.js";
import { toTimestamp } from "./time.js";
import { SHIM_VERSION } from "./version.js";

/** runc's --manage-cgroups-mode values; anything else is left to the runtime's default. */
const CGROUPS_MODES = ["soft", "full", "strict"] as const;

const STATUS: Record<string, Status> = {
  created: Status.CREATED,
  running: Status.RUNNING,
  paused: Status.PAUSED,
  stopped: Status.STOPPED,
  deleted: Status.STOPPED,
};

/** JSON carried in an Any (OCI Process, LinuxResources): bytes → object. */
function jsonAny(any: Any | undefined, what: string): Record<string, unknown> {
  if (!any) throw errInvalidArgument(`${what} is required`);
  try {
    const v = JSON.parse(Buffer.from(any.value).toString("utf8")) as unknown;
    if (typeof v !== "object" || v === null) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw errInvalidArgument(`invalid ${what}: ${(e as Error).message}`);
  }
}

function statusOf(p: ShimProcess, init: ShimProcess): Status {
  if (init.pausing) return Status.PAUSING;
  if (!p.isInit && init.state === "paused") return Status.PAUSED;
  return STATUS[p.state] ?? Status.UNKNOWN;
}

/** containerd.task.v2.Task over ttrpc: converts protos and delegates to the TaskService. */
export function taskApi(svc: TaskService): TtrpcServiceImpl<typeof Task> {
  return {
    async create(req) {
      const c = await svc.create({
        id: req.id,
        bundle: req.bundle,
        rootfs: req.rootfs.map((m) => ({ type: m.type, source: m.source, options: m.options })),
        stdio: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
        options: req.options,
        checkpoint: req.checkpoint,
        parentCheckpoint: req.parentCheckpoint,
      });
      return { pid: c.init.pid };
    },
    async start(req) {
      const p = await svc.start(req.id, req.execId);
      return { pid: p.pid };
    },
    async delete(req) {
      const p = await svc.delete(req.id, req.execId);
      return { pid: p.pid, exitStatus: p.exitStatus, exitedAt: toTimestamp(p.exitedAt) };
    },
    async exec(req) {
      const spec = jsonAny(req.spec, "process spec");
      svc.exec(
        req.id,
        req.execId,
        { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
        spec,
      );
      return {};
    },
    async resizePty(req) {
      const p = svc.container(req.id).process(req.execId);
      p.check("resize");
      p.io?.resize(req.width, req.height);
      return {};
    },
    async closeIO(req) {
      svc.container(req.id).process(req.execId).closeStdin();
      return {};
    },
    async state(req) {
      const c = svc.container(req.id);
      const p = c.process(req.execId);
      return {
        id: p.id,
        bundle: c.bundle,
        pid: p.pid,
        status: statusOf(p, c.init),
        stdin: p.stdio.stdin,
        stdout: p.stdio.stdout,
        stderr: p.stdio.stderr,
        terminal: p.stdio.terminal,
        exitStatus: p.exitStatus,
        exitedAt: toTimestamp(p.exitedAt),
        execId: req.execId,
      };
    },
    async pids(req) {
      const c = svc.container(req.id);
      const pids = await c.pids();
      return {
        processes: pids.map((pid) => {
          const exec = [...c.execs.values()].find((p) => p.pid === pid);
          return {
            pid,
            info: exec
              ? {
                  typeUrl: ProcessDetailsSchema.typeName,
                  value: toBinary(
                    ProcessDetailsSchema,
                    create(ProcessDetailsSchema, { execId: exec.execId }),
                  ),
                }
              : undefined,
          };
        }),
      };
    },
    async pause(req) {
      await svc.pause(req.id);
      return {};
    },
    async resume(req) {
      await svc.resume(req.id);
      return {};
    },
    async checkpoint(req) {
      const c = svc.container(req.id);
      const o =
        req.options && req.options.value.length > 0
          ? fromBinary(CheckpointOptionsSchema, req.options.value)
          : create(CheckpointOptionsSchema);
      await c.checkpoint({
        imagePath: req.path || o.imagePath,
        workPath: o.workPath || undefined,
        leaveRunning: !o.exit,
        allowOpenTcp: o.openTcp || undefined,
        allowExternalUnixSockets: o.externalUnixSockets || undefined,
        allowTerminal: o.terminal || undefined,
        fileLocks: o.fileLocks || undefined,
        emptyNamespaces: o.emptyNamespaces.length > 0 ? o.emptyNamespaces : undefined,
        cgroupsMode: CGROUPS_MODES.find((m) => m === o.cgroupsMode),
      });
      return {};
    },
    async kill(req) {
      await svc.kill(req.id, req.execId, req.signal, req.all);
      return {};
    },
    async update(req) {
      await svc.container(req.id).update(jsonAny(req.resources, "resources"));
      return {};
    },
    async wait(req) {
      const p = await svc.wait(req.id, req.execId);
      return { exitStatus: p.exitStatus, exitedAt: toTimestamp(p.exitedAt) };
    },
    async stats(req) {
      return { stats: await svc.stats(req.id) };
    },
    async connect(req) {
      return {
        shimPid: process.pid,
        taskPid: svc.containers.get(req.id)?.init.pid ?? 0,
        version: SHIM_VERSION,
      };
    },
    async shutdown() {
      // decided before the answer, so whoever gets it finds the socket's name already gone
      // (as containerd-shim-runc-v2 removes its socket first); the process exits after it
      svc.shutdown();
      return {};
    },
  };
}
