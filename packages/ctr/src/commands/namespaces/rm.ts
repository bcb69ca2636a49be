import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, NAMESPACES, RM } from "../../aliases.js";

export default class NamespacesRm extends CtrCommand {
  static override description = "remove one or more namespaces";
  static override hiddenAliases = aliasIds(NAMESPACES, RM);
  static override strict = false;
  static override args = {
    name: Args.string({ ignoreStdin: true, required: true, description: "namespace names" }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parseCommand(NamespacesRm);
    const [{ Namespaces }, { errorMessage, isNotFound }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js"),
      import("../../errors.js"),
      this.client(),
    ]);
    const svc = client.service(Namespaces);
    const removed: string[] = [];
    const failed: { name: string; error: string }[] = [];
    // like ctr: try every name, report each failure, fail the command at the end
    for (const name of argv as string[]) {
      try {
        await svc.delete({ name }, client.call());
        removed.push(name);
      } catch (err) {
        // ctr: a namespace that is not there counts as removed
        if (isNotFound(err)) removed.push(name);
        else failed.push({ name, error: errorMessage(err) });
      }
    }
    this.output({ removed, failed }, () => removed.map((n) => n + "\n").join(""));
    for (const f of failed)
      process.stderr.write(`ctr-ts: unable to delete ${f.name}: ${f.error}\n`);
    if (failed.length > 0) process.exitCode = 1;
  }
}
