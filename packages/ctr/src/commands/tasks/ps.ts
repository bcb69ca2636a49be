import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

export default class TasksPs extends CtrCommand {
  static override description = "list the processes of a task";
  static override hiddenAliases = aliasIds(TASKS, ["ps"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };

  async run(): Promise<void> {
    const { args } = await this.parseCommand(TasksPs);
    const [{ getTask }, { formatTable }, client] = await Promise.all([
      import("../../ops/tasks-client.js"),
      import("../../format/table.js"),
      this.client(),
    ]);
    const { tasks } = await getTask(client, args.id);
    const { processes } = await tasks.listPids({ containerId: args.id }, client.call());
    const rows = processes.map((p) => ({ pid: p.pid, info: p.info ? p.info.typeUrl : null }));
    this.output(rows, () =>
      formatTable(
        ["PID", "INFO"],
        rows.map((r) => [String(r.pid), r.info ?? "-"]),
      ),
    );
  }
}
