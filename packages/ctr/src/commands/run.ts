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
    "create a container from a rootfs directory and run its task; exits with the task's status";
  static override strict = false;
  static override flags = {
    ...containerFlags,
    ...stdioFlags,
    rm: Flags.boolean({ description: "delete the container when the task has exited" }),
  };
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
    command: Args.string({
      ignoreStdin: true,
      description: "command (absolute path) and its arguments",
    }),
  };
  static override examples = [
    "<%= config.bin %> run --rm --rootfs /srv/rootfs hello /bin/echo hi",
    "echo x | <%= config.bin %> run --rm -i --rootfs /srv/rootfs r1 /bin/sh -c 'read l; echo got-$l'",
    "<%= config.bin %> run -d --rootfs /srv/rootfs web /bin/httpd -f",
  ];

  async run(): Promise<void> {
    const split = splitCommandLine(
      this.argv,
      flagShapes({ ...Run.flags, ...CtrCommand.baseFlags }),
      1,
    );
    const { flags, args } = await this.parseCommand(Run, split.own);
    const [
      { createContainer },
      { containerRecordFromFlags },
      { runContainerTask },
      { defaultFifoRoot },
      client,
    ] = await Promise.all([
      import("../ops/containers.js"),
      import("../ops/container-flags.js"),
      import("../ops/run-task.js"),
      import("../stdio/fifo.js"),
      this.client(),
    ]);
    if (flags.rm && flags.detach) throw new Error("flags --detach and --rm cannot be set together");
    await createContainer(client, containerRecordFromFlags(args.id, flags, split.command));
    let status = 0;
    let failure: unknown;
    try {
      status = await runContainerTask(client, args.id, {
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
      await removeContainer(client, args.id).catch((err: unknown) => (failure ??= err));
    }
    if (failure) throw failure;
    if (this.globals.json && flags.detach)
      process.stdout.write(JSON.stringify({ id: args.id }) + "\n");
    process.exitCode = status === 0 ? 0 : status & 0xff || 1;
  }
}
