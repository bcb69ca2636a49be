import { Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, LS, TASKS } from "../../aliases.js";

export default class TasksLs extends CtrCommand {
  static override description = "list tasks";
  static override hiddenAliases = aliasIds(TASKS, LS);
  static override flags = {
    quiet: Flags.boolean({ char: "q", description: "print only the task ids" }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseCommand(TasksLs);
    const [{ tasksService }, { formatTable }, { statusName }, client] = await Promise.all([
      import("../../ops/tasks-client.js"),
      import("../../format/table.js"),
      import("../../format/status.js"),
      this.client(),
    ]);
    const tasks = await tasksService(client);
    const list = (await tasks.list({}, client.call())).tasks;
    const rows = list.map((t) => ({
      id: t.id || t.containerId,
      pid: t.pid,
      status: statusName(t.status),
    }));
    this.output(flags.quiet ? rows.map((r) => r.id) : rows, () =>
      flags.quiet
        ? rows.map((r) => r.id + "\n").join("")
        : formatTable(
            ["TASK", "PID", "STATUS"],
            rows.map((r) => [r.id, String(r.pid), r.status]),
          ),
    );
    if (rows.length === 0) {
      const { emptyNamespaceHint } = await import("../../ops/hint.js");
      const hint = await emptyNamespaceHint(
        client,
        "tasks",
        async (ns) => (await tasks.list({}, client.inNamespace(ns))).tasks.length,
      );
      if (hint) this.hint(hint);
    }
  }
}
