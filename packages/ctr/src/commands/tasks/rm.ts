import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, RM, TASKS } from "../../aliases.js";

export default class TasksRm extends CtrCommand {
  static override description = "delete stopped tasks (-f kills them first)";
  static override hiddenAliases = aliasIds(TASKS, RM);
  static override strict = false;
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container ids" }),
  };
  static override flags = {
    force: Flags.boolean({
      char: "f",
      description: "SIGKILL all processes of a running task, then delete it",
    }),
    "exec-id": Flags.string({ description: "delete this exec process instead of the task" }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parseCommand(TasksRm);
    const [{ tasksService }, { fifoSetOf, removeFifoSet }, { errorMessage }, client] =
      await Promise.all([
        import("../../ops/tasks-client.js"),
        import("../../stdio/fifo.js"),
        import("../../errors.js"),
        this.client(),
      ]);
    const tasks = await tasksService(client);
    const results: { id: string; exitStatus?: number; error?: string }[] = [];
    for (const id of argv as string[]) {
      try {
        if (flags["exec-id"]) {
          const res = await tasks.deleteProcess(
            { containerId: id, execId: flags["exec-id"] },
            client.call(),
          );
          results.push({ id, exitStatus: res.exitStatus });
          continue;
        }
        if (flags.force) {
          // ctr: Kill {9, all}, Wait, Get, Delete
          const waiting = tasks.wait({ containerId: id });
          await tasks
            .kill({ containerId: id, signal: 9, all: true }, client.call())
            .catch(() => undefined);
          await waiting;
        }
        const { process } = await tasks.get({ containerId: id }, client.call());
        const res = await tasks.delete({ containerId: id }, client.call());
        if (process) removeFifoSet(fifoSetOf(process));
        results.push({ id, exitStatus: res.exitStatus });
      } catch (err) {
        results.push({ id, error: errorMessage(err) });
      }
    }
    this.output(results, () => "");
    for (const r of results)
      if (r.error) process.stderr.write(`ctr-ts: unable to delete ${r.id}: ${r.error}\n`);
    if (results.some((r) => r.error)) process.exitCode = 1;
  }
}
