import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

export default class TasksAttach extends CtrCommand {
  static override description =
    "attach to the stdio of a running task (started with -d); exits with its status";
  static override hiddenAliases = aliasIds(TASKS, ["attach"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };

  async run(): Promise<void> {
    const { args } = await this.parseCommand(TasksAttach);
    const [{ getTask }, { fifoSetOf }, { attachFifos }, { superviseProcess, finishStdio }, client] =
      await Promise.all([
        import("../../ops/tasks-client.js"),
        import("../../stdio/fifo.js"),
        import("../../stdio/attach.js"),
        import("../../ops/task-session.js"),
        this.client(),
      ]);
    const { tasks, process: proc } = await getTask(client, args.id);
    if (!proc.stdout && !proc.stdin) throw new Error(`task ${args.id} has no stdio to attach to`);
    const fifos = fifoSetOf(proc);
    const attached = attachFifos(fifos);
    let status: number;
    try {
      status = await superviseProcess(client, tasks, { containerId: args.id }, attached, {
        tty: proc.terminal,
        start: false,
      });
    } finally {
      // the task (and its FIFOs) belong to whoever deletes it: only stop copying
      await finishStdio(undefined, attached);
    }
    process.exitCode = status === 0 ? 0 : status & 0xff || 1;
  }
}
