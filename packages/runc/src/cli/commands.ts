import { writeSync } from "node:fs";
import {
  bool,
  int,
  multi,
  parseArgs,
  str,
  UsageError,
  type FlagSpecs,
  type ParsedArgs,
} from "./args.js";
import { Logger } from "./log.js";

export const DEFAULT_ROOT = "/run/runc-ts";
export const VERSION = "1.1.5";
export const SPEC_VERSION = "1.0.2-dev";

export interface Globals {
  root: string;
  log: Logger;
  systemdCgroup: boolean;
  /** the criu binary for checkpoint/restore (global --criu) */
  criu: string;
}

type Handler = (g: Globals, a: ParsedArgs) => Promise<number>;

interface Command {
  flags: FlagSpecs;
  stopAtPositional?: boolean;
  run: Handler;
}

const GLOBAL_FLAGS: FlagSpecs = {
  root: { type: "string" },
  log: { type: "string" },
  "log-format": { type: "string" },
  debug: { type: "bool" },
  "systemd-cgroup": { type: "bool" },
  criu: { type: "string" },
  rootless: { type: "string" },
  help: { type: "bool", aliases: ["h"] },
  version: { type: "bool", aliases: ["v"] },
};

const CREATE_FLAGS: FlagSpecs = {
  bundle: { type: "string", aliases: ["b"] },
  "console-socket": { type: "string" },
  "pid-file": { type: "string" },
  "no-pivot": { type: "bool" },
  "no-new-keyring": { type: "bool" },
  "preserve-fds": { type: "int" },
};

/** runc 1.1's CRIU flags common to checkpoint and restore. */
const CRIU_FLAGS: FlagSpecs = {
  "image-path": { type: "string" },
  "work-path": { type: "string" },
  "tcp-established": { type: "bool" },
  "ext-unix-sk": { type: "bool" },
  "shell-job": { type: "bool" },
  "file-locks": { type: "bool" },
  "manage-cgroups-mode": { type: "string" },
  "empty-ns": { type: "multi" },
  "auto-dedup": { type: "bool" },
  "lazy-pages": { type: "bool" },
};

const CHECKPOINT_FLAGS: FlagSpecs = {
  ...CRIU_FLAGS,
  "parent-path": { type: "string" },
  "leave-running": { type: "bool" },
  "status-fd": { type: "int" },
  "page-server": { type: "string" },
  "pre-dump": { type: "bool" },
};

const RESTORE_FLAGS: FlagSpecs = {
  ...CRIU_FLAGS,
  // go-runc passes the parent path to restore too; CRIU finds the parent through the images
  "parent-path": { type: "string" },
  "console-socket": { type: "string" },
  bundle: { type: "string", aliases: ["b"] },
  detach: { type: "bool", aliases: ["d"] },
  "pid-file": { type: "string" },
  "no-subreaper": { type: "bool" },
  "no-pivot": { type: "bool" },
  "lsm-profile": { type: "string" },
  "lsm-mount-context": { type: "string" },
};

function criuFlags(a: ParsedArgs) {
  return {
    imagePath: str(a.flags["image-path"]) ?? "",
    workPath: str(a.flags["work-path"]),
    tcpEstablished: bool(a.flags["tcp-established"]),
    extUnixSk: bool(a.flags["ext-unix-sk"]),
    shellJob: bool(a.flags["shell-job"]),
    fileLocks: bool(a.flags["file-locks"]),
    manageCgroupsMode: str(a.flags["manage-cgroups-mode"]),
    emptyNs: multi(a.flags["empty-ns"]),
    autoDedup: bool(a.flags["auto-dedup"]),
    lazyPages: bool(a.flags["lazy-pages"]),
  };
}

export function out(text: string): void {
  const b = Buffer.from(text);
  let off = 0;
  while (off < b.length) off += writeSync(1, b, off);
}

function oneId(a: ParsedArgs, name: string): string {
  if (a.positionals.length !== 1) throw new UsageError(`"${name}" requires exactly 1 argument(s)`);
  return a.positionals[0]!;
}

async function create(g: Globals, a: ParsedArgs, detach: boolean) {
  const { createContainer } = await import("../container/create.js");
  return createContainer({
    root: g.root,
    id: oneId(a, detach ? "create" : "run"),
    bundle: str(a.flags.bundle) ?? process.cwd(),
    pidFile: str(a.flags["pid-file"]),
    consoleSocket: str(a.flags["console-socket"]),
    noPivot: bool(a.flags["no-pivot"]),
    noNewKeyring: bool(a.flags["no-new-keyring"]),
    preserveFds: int(a.flags["preserve-fds"]),
    detach,
  });
}

const COMMANDS: Record<string, Command> = {
  create: {
    flags: CREATE_FLAGS,
    async run(g, a) {
      const c = await create(g, a, true);
      c.child.unref();
      return 0;
    },
  },
  run: {
    flags: { ...CREATE_FLAGS, detach: { type: "bool", aliases: ["d"] }, keep: { type: "bool" } },
    async run(g, a) {
      const { runContainer } = await import("../container/run.js");
      const detach = bool(a.flags.detach);
      const c = await create(g, a, detach);
      return runContainer(g.root, c, {
        detach,
        keep: bool(a.flags.keep),
        warn: (m) => g.log.warn(m),
      });
    },
  },
  start: {
    flags: {},
    async run(g, a) {
      const { startContainer } = await import("../container/ops.js");
      await startContainer(g.root, oneId(a, "start"));
      return 0;
    },
  },
  state: {
    flags: {},
    async run(g, a) {
      const { containerStateJson } = await import("../container/ops.js");
      out(await containerStateJson(g.root, oneId(a, "state")));
      return 0;
    },
  },
  list: {
    flags: { format: { type: "string", aliases: ["f"] }, quiet: { type: "bool", aliases: ["q"] } },
    async run(g, a) {
      const { listContainers, formatTable } = await import("../container/ops.js");
      const list = await listContainers(g.root);
      if (bool(a.flags.quiet)) {
        out(list.map((s) => `${s.id}\n`).join(""));
        return 0;
      }
      const format = str(a.flags.format) ?? "table";
      if (format === "json") out(list.length ? JSON.stringify(list) + "\n" : "null\n");
      else if (format === "table") {
        const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
        for (const s of list)
          rows.push([s.id, s.pid, s.status, s.bundle, s.created, s.owner].map(String));
        out(formatTable(rows));
      } else throw new UsageError("invalid format option");
      return 0;
    },
  },
  kill: {
    flags: { all: { type: "bool", aliases: ["a"] } },
    async run(g, a) {
      const { killContainer } = await import("../container/ops.js");
      if (a.positionals.length < 1 || a.positionals.length > 2)
        throw new UsageError(`"kill" requires a minimum of 1 and a maximum of 2 arguments`);
      await killContainer(g.root, a.positionals[0], a.positionals[1], bool(a.flags.all));
      return 0;
    },
  },
  delete: {
    flags: { force: { type: "bool", aliases: ["f"] } },
    async run(g, a) {
      const { deleteContainer } = await import("../container/ops.js");
      await deleteContainer(g.root, oneId(a, "delete"), bool(a.flags.force), (m) => g.log.warn(m));
      return 0;
    },
  },
  ps: {
    flags: { format: { type: "string", aliases: ["f"] } },
    stopAtPositional: true,
    async run(g, a) {
      const { psContainer } = await import("../container/ps.js");
      if (a.positionals.length < 1)
        throw new UsageError(`"ps" requires a minimum of 1 argument(s)`);
      out(
        await psContainer(
          g.root,
          a.positionals[0],
          str(a.flags.format) ?? "table",
          a.positionals.slice(1),
        ),
      );
      return 0;
    },
  },
  pause: {
    flags: {},
    async run(g, a) {
      const { pauseContainer } = await import("../container/ops.js");
      await pauseContainer(g.root, oneId(a, "pause"));
      return 0;
    },
  },
  resume: {
    flags: {},
    async run(g, a) {
      const { resumeContainer } = await import("../container/ops.js");
      await resumeContainer(g.root, oneId(a, "resume"));
      return 0;
    },
  },
  update: {
    flags: {
      resources: { type: "string", aliases: ["r"] },
      memory: { type: "string" },
      "memory-reservation": { type: "string" },
      "memory-swap": { type: "string" },
      "kernel-memory": { type: "string" },
      "kernel-memory-tcp": { type: "string" },
      "pids-limit": { type: "int" },
      "cpu-shares": { type: "int" },
      "cpu-quota": { type: "int" },
      "cpu-period": { type: "int" },
      "cpu-rt-period": { type: "int" },
      "cpu-rt-runtime": { type: "int" },
      "cpuset-cpus": { type: "string" },
      "cpuset-mems": { type: "string" },
      "blkio-weight": { type: "int" },
      "l3-cache-schema": { type: "string" },
      "mem-bw-schema": { type: "string" },
    },
    async run(g, a) {
      const { updateResources } = await import("../container/update.js");
      const { updateContainer } = await import("../container/ops.js");
      await updateContainer(g.root, oneId(a, "update"), await updateResources(a.flags));
      return 0;
    },
  },
  events: {
    flags: { stats: { type: "bool" }, interval: { type: "string" } },
    async run(g, a) {
      const { eventsContainer } = await import("../container/events.js");
      return eventsContainer(
        g.root,
        oneId(a, "events"),
        bool(a.flags.stats),
        str(a.flags.interval) ?? "5s",
      );
    },
  },
  exec: {
    stopAtPositional: true,
    flags: {
      "console-socket": { type: "string" },
      cwd: { type: "string" },
      env: { type: "multi", aliases: ["e"] },
      tty: { type: "bool", aliases: ["t"] },
      user: { type: "string", aliases: ["u"] },
      "additional-gids": { type: "multi", aliases: ["g"] },
      process: { type: "string", aliases: ["p"] },
      detach: { type: "bool", aliases: ["d"] },
      "pid-file": { type: "string" },
      "process-label": { type: "string" },
      apparmor: { type: "string" },
      "no-new-privs": { type: "bool" },
      cap: { type: "multi", aliases: ["c"] },
      "preserve-fds": { type: "int" },
      cgroup: { type: "multi" },
      "ignore-paused": { type: "bool" },
    },
    async run(g, a) {
      const { execProcess } = await import("../container/exec.js");
      return execProcess(g.root, a);
    },
  },
  spec: {
    flags: { bundle: { type: "string", aliases: ["b"] }, rootless: { type: "bool" } },
    async run(_g, a) {
      const { writeDefaultSpec } = await import("../spec/default.js");
      writeDefaultSpec(str(a.flags.bundle) ?? process.cwd(), bool(a.flags.rootless));
      return 0;
    },
  },
  features: {
    flags: {},
    async run() {
      const { features } = await import("../spec/default.js");
      out(JSON.stringify(features(), null, 4) + "\n");
      return 0;
    },
  },
  checkpoint: {
    flags: CHECKPOINT_FLAGS,
    async run(g, a) {
      const { checkpointContainer } = await import("../container/checkpoint.js");
      await checkpointContainer({
        ...criuFlags(a),
        root: g.root,
        id: oneId(a, "checkpoint"),
        criu: g.criu,
        warn: (m) => g.log.warn(m),
        parentPath: str(a.flags["parent-path"]),
        leaveRunning: bool(a.flags["leave-running"]),
        preDump: bool(a.flags["pre-dump"]),
        pageServer: str(a.flags["page-server"]),
      });
      return 0;
    },
  },
  restore: {
    flags: RESTORE_FLAGS,
    async run(g, a) {
      const { restoreContainer } = await import("../container/restore.js");
      return restoreContainer({
        ...criuFlags(a),
        root: g.root,
        id: oneId(a, "restore"),
        criu: g.criu,
        warn: (m) => g.log.warn(m),
        bundle: str(a.flags.bundle),
        pidFile: str(a.flags["pid-file"]),
        consoleSocket: str(a.flags["console-socket"]),
        detach: bool(a.flags.detach),
        noSubreaper: bool(a.flags["no-subreaper"]),
        lsmProfile: str(a.flags["lsm-profile"]),
        lsmMountContext: str(a.flags["lsm-mount-context"]),
      });
    },
  },
};

const USAGE = `NAME:
   runc-ts - Open Container Initiative runtime in TypeScript

USAGE:
   runc-ts [global options] command [command options] [arguments...]

COMMANDS:
   ${Object.keys(COMMANDS).join(", ")}

GLOBAL OPTIONS:
   --debug, --log value, --log-format value, --root value (default: "${DEFAULT_ROOT}"), --systemd-cgroup
`;

/** Runs one runc-ts command line; returns the exit code. Errors go to the log as runc's do. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let log = new Logger(undefined, "text", false);
  try {
    // global flags come before the command
    let i = 0;
    while (i < argv.length && argv[i]!.startsWith("-")) {
      const spec = GLOBAL_FLAGS[argv[i]!.replace(/^--?/, "").split("=")[0]!];
      i += spec && spec.type !== "bool" && !argv[i]!.includes("=") ? 2 : 1;
    }
    const globals = parseArgs(argv.slice(0, i), GLOBAL_FLAGS);
    const format = str(globals.flags["log-format"]) ?? "text";
    if (format !== "text" && format !== "json")
      throw new UsageError(`invalid log-format: ${format}`);
    log = new Logger(str(globals.flags.log), format, bool(globals.flags.debug));
    if (bool(globals.flags.version)) {
      out(`runc-ts version ${VERSION}\nspec: ${SPEC_VERSION}\n`);
      return 0;
    }
    const name = argv[i];
    if (name === undefined || bool(globals.flags.help) || name === "help") {
      out(USAGE);
      return 0;
    }
    if (bool(globals.flags["systemd-cgroup"]))
      throw new Error(
        "systemd cgroup driver is not supported by runc-ts (use the cgroupfs driver)",
      );
    const cmd = COMMANDS[name];
    if (!cmd) throw new UsageError(`No help topic for '${name}'`);
    const args = parseArgs(argv.slice(i + 1), cmd.flags, cmd.stopAtPositional);
    const g: Globals = {
      root: str(globals.flags.root) ?? DEFAULT_ROOT,
      log,
      systemdCgroup: false,
      criu: str(globals.flags.criu) || "criu",
    };
    return await cmd.run(g, args);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    log.error(msg);
    if (!log.toStderr) writeSync(2, msg + "\n");
    if (log.debugEnabled && e instanceof Error && e.stack) writeSync(2, e.stack + "\n");
    return 1;
  }
}
