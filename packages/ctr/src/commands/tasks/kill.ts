import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

export default class TasksKill extends CtrCommand {
  static override description = "signal a task (default SIGTERM)";
  static override hiddenAliases = aliasIds(TASKS, ["kill"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };
  static override flags = {
    signal: Flags.string({
      char: "s",
      default: "SIGTERM",
      description: "signal name (SIGKILL, KILL) or number",
    }),
    all: Flags.boolean({ char: "a", description: "send the signal to all processes of the task" }),
    "exec-id": Flags.string({ description: "signal this exec process instead of the init" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parseCommand(TasksKill);
    const [{ getTask }, { parseSignal }, client] = await Promise.all([
      import("../../ops/tasks-client.js"),
      import("../../signals.js"),
      this.client(),
    ]);
    const signal = parseSignal(flags.signal);
    if (flags.all && flags["exec-id"]) throw new Error("specify an exec id or --all, not both");
    const { tasks } = await getTask(client, args.id);
    await tasks.kill(
      { containerId: args.id, execId: flags["exec-id"] ?? "", signal, all: flags.all },
      client.call(),
    );
  }
}
