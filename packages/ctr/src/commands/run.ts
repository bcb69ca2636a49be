import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../base-command.js";
import { flagShapes, splitCommandLine } from "../split-argv.js";
import { containerFlags } from "./containers/create.js";

export const stdioFlags = {
  interactive: Flags.boolean({
    char: "i",
    description: "attach stdin (ctr's run has no -i; -t attaches it too)",
  }),
  detach: Flags.boolean({
    char: "d",
    description: "start the task and return; `tasks attach` reconnects",
  }),
  "fifo-dir": Flags.string({
    env: "CTR_TS_FIFO_DIR",
    description:
      "directory for the stdio FIFOs [default: /run/containerd-ts/fifo as root, else under the temp dir]",
  }),
};

export default class Run extends CtrCommand {
  static override description =
    "create a container from an image (or a rootfs directory with --rootfs) and run its task; exits with the task's status";
  static override strict = false;
  static override flags = {
    ...containerFlags,
    rootfs: Flags.string({
      description: "root filesystem directory of the container (then no IMAGE is given)",
    }),
    snapshotter: Flags.string({
      default: "overlayfs",
      description: "snapshotter holding the unpacked IMAGE; the container's snapshot goes there",
    }),
    ...stdioFlags,
    rm: Flags.boolean({ description: "delete the container when the task has exited" }),
  };
  static override args = {
    ref: Args.string({
      ignoreStdin: true,
      required: true,
      description: "IMAGE, or the container id with --rootfs",
    }),
    id: Args.string({ ignoreStdin: true, description: "container id (after IMAGE)" }),
    command: Args.string({
      ignoreStdin: true,
      description: "command (absolute path) and its arguments",
    }),
  };
  static override examples = [
    "<%= config.bin %> run --rm docker.io/library/busybox:latest hello /bin/echo hi",
    "<%= config.bin %> run --rm --rootfs /srv/rootfs hello /bin/echo hi",
    "echo x | <%= config.bin %> run --rm -i --rootfs /srv/rootfs r1 /bin/sh -c 'read l; echo got-$l'",
    "<%= config.bin %> run -d --rootfs /srv/rootfs web /bin/httpd -f",
  ];

  async run(): Promise<void> {
    const shapes = flagShapes({ ...Run.flags, ...CtrCommand.baseFlags });
    // with --rootfs the command follows ID, else it follows IMAGE ID
    const first = splitCommandLine(this.argv, shapes, 1);
    const withRootfs = first.own.some((t) => t === "--rootfs" || t.startsWith("--rootfs="));
    const split = withRootfs ? first : splitCommandLine(this.argv, shapes, 2);
    const { flags, args } = await this.parseCommand(Run, split.own);
    const id = flags.rootfs === undefined ? args.id : args.ref;
    if (!id) throw new Error("container id must be provided");
    const [
      { createContainer },
      { containerRecordFromFlags },
      { imageContainerRecord },
      { runContainerTask },
      { defaultFifoRoot },
      client,
    ] = await Promise.all([
      import("../ops/containers.js"),
      import("../ops/container-flags.js"),
      import("../ops/image-container.js"),
      import("../ops/run-task.js"),
      import("../stdio/fifo.js"),
      this.client(),
    ]);
    if (flags.rm && flags.detach) throw new Error("flags --detach and --rm cannot be set together");
    const rootfs = flags.rootfs;
    const record =
      rootfs === undefined
        ? await imageContainerRecord(client, args.ref, id, flags, split.command)
        : containerRecordFromFlags(id, { ...flags, rootfs }, split.command);
    await createContainer(client, record);
    let status = 0;
    let failure: unknown;
    try {
      status = await runContainerTask(client, id, {
        stdin: flags.interactive || flags.tty,
        tty: flags.tty,
        detach: flags.detach,
        fifoRoot: flags["fifo-dir"] ?? defaultFifoRoot(),
      });
    } catch (err) {
      failure = err;
    }
    if (flags.rm) {
      const { removeContainer } = await import("../ops/remove-container.js");
      await removeContainer(client, id).catch((err: unknown) => (failure ??= err));
    }
    if (failure) throw failure;
    if (this.globals.json && flags.detach) process.stdout.write(JSON.stringify({ id }) + "\n");
    process.exitCode = status === 0 ? 0 : status & 0xff || 1;
  }
}
