import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, NAMESPACES } from "../../aliases.js";

export default class NamespacesCreate extends CtrCommand {
  static override description = "create a namespace, optionally with labels";
  static override hiddenAliases = aliasIds(NAMESPACES, ["create", "c"]);
  static override strict = false;
  static override args = {
    name: Args.string({ ignoreStdin: true, required: true, description: "namespace name" }),
    labels: Args.string({
      ignoreStdin: true,
      description: "labels as key=value (several allowed)",
    }),
  };
  static override examples = ["<%= config.bin %> namespaces create prod team=web tier=1"];

  async run(): Promise<void> {
    const { args, argv } = await this.parseCommand(NamespacesCreate);
    const [{ Namespaces }, { parseKeyValues }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js"),
      import("../../labels.js"),
      this.client(),
    ]);
    const labels = parseKeyValues((argv as string[]).slice(1));
    const res = await client
      .service(Namespaces)
      .create({ namespace: { name: args.name, labels } }, client.call());
    this.output(
      { name: res.namespace?.name ?? args.name, labels: res.namespace?.labels ?? labels },
      () => "",
    );
  }
}
