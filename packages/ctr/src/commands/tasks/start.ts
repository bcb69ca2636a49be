import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";
import { stdioFlags } from "../run.js";

export default class TasksStart extends CtrCommand {
  static override description =
    "start the task of an existing container; exits with its status unless -d";
  static override hiddenAliases = aliasIds(TASKS, ["start"]);
  static override flags = stdioFlags;
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parseCommand(TasksStart);
    const [{ Containers }, { runContainerTask }, { defaultFifoRoot }, { decodeSpec }, client] =
      await Promise.all([
        import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
        import("../../ops/run-task.js"),
        import("../../stdio/fifo.js"),
        import("../../ops/containers.js"),
        this.client(),
      ]);
    const { container } = await client.service(Containers).get({ id: args.id }, client.call());
    // the container's spec decides about the terminal, like ctr
    const spec = container
      ? (decodeSpec(container) as { process?: { terminal?: boolean } } | undefined)
      : undefined;
    const tty = spec?.process?.terminal === true;
    const status = await runContainerTask(client, args.id, {
      stdin: flags.interactive || tty,
      tty,
      detach: flags.detach,
      fifoRoot: flags["fifo-dir"] ?? defaultFifoRoot(),
    });
    process.exitCode = status === 0 ? 0 : status & 0xff || 1;
  }
}
