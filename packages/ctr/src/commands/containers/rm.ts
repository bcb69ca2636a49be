import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, CONTAINERS, RM } from "../../aliases.js";

export default class ContainersRm extends CtrCommand {
  static override description = "delete one or more containers (their tasks must be stopped)";
  static override hiddenAliases = aliasIds(CONTAINERS, RM);
  static override strict = false;
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container ids" }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parseCommand(ContainersRm);
    const [{ removeContainer }, { errorMessage }, client] = await Promise.all([
      import("../../ops/remove-container.js"),
      import("../../errors.js"),
      this.client(),
    ]);
    const removed: string[] = [];
    const failed: { id: string; error: string }[] = [];
    for (const id of argv as string[]) {
      try {
        await removeContainer(client, id);
        removed.push(id);
      } catch (err) {
        failed.push({ id, error: errorMessage(err) });
      }
    }
    this.output({ removed, failed }, () => "");
    for (const f of failed)
      process.stderr.write(`ctr-ts: failed to delete container "${f.id}": ${f.error}\n`);
    if (failed.length > 0) process.exitCode = 1;
  }
}
