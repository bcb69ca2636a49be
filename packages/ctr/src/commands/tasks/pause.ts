import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

export default class TasksPause extends CtrCommand {
  static override description = "pause a task (freezes its cgroup)";
  static override hiddenAliases = aliasIds(TASKS, ["pause"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };

  async run(): Promise<void> {
    const { args } = await this.parseCommand(TasksPause);
    const { getTask } = await import("../../ops/tasks-client.js");
    const client = await this.client();
    const { tasks } = await getTask(client, args.id);
    await tasks.pause({ containerId: args.id }, client.call());
  }
}
