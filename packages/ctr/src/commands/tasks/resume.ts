import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

export default class TasksResume extends CtrCommand {
  static override description = "resume a paused task";
  static override hiddenAliases = aliasIds(TASKS, ["resume"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };

  async run(): Promise<void> {
    const { args } = await this.parseCommand(TasksResume);
    const { getTask } = await import("../../ops/tasks-client.js");
    const client = await this.client();
    const { tasks } = await getTask(client, args.id);
    await tasks.resume({ containerId: args.id }, client.call());
  }
}
