import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

export default class TasksMetrics extends CtrCommand {
  static override description = "print the cgroup metrics of a task";
  static override hiddenAliases = aliasIds(TASKS, ["metrics", "metric"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };

  async run(): Promise<void> {
    const { args } = await this.parseCommand(TasksMetrics);
    const [{ getTask }, { decodeMetrics }, { formatTable }, { goTimeString }, client] =
      await Promise.all([
        import("../../ops/tasks-client.js"),
        import("../../format/metrics.js"),
        import("../../format/table.js"),
        import("../../format/time.js"),
        this.client(),
      ]);
    const { tasks } = await getTask(client, args.id);
    const { metrics } = await tasks.metrics({ filters: [`id==${args.id}`] }, client.call());
    const metric = metrics[0];
    if (!metric) throw new Error(`no metrics for task ${args.id}`);
    const decoded = decodeMetrics(metric.data);
    const when = metric.timestamp ? goTimeString(metric.timestamp) : "";
    this.output(
      { id: metric.id, timestamp: when, type: metric.data?.typeUrl ?? null, data: decoded.json },
      () =>
        formatTable(["ID", "TIMESTAMP"], [[metric.id, when]]) +
        "\n" +
        formatTable(["METRIC", "VALUE"], decoded.rows),
    );
  }
}
