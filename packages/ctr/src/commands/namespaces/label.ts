import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, NAMESPACES } from "../../aliases.js";

export default class NamespacesLabel extends CtrCommand {
  static override description =
    "set labels on a namespace (key= removes a label); prints the labels without any";
  static override hiddenAliases = aliasIds(NAMESPACES, ["label"]);
  static override strict = false;
  static override args = {
    name: Args.string({ ignoreStdin: true, required: true, description: "namespace name" }),
    labels: Args.string({ ignoreStdin: true, description: "labels as key=value; key= removes" }),
  };

  async run(): Promise<void> {
    const { args, argv } = await this.parseCommand(NamespacesLabel);
    const [{ Namespaces }, { labelUpdate }, { formatLabels }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js"),
      import("../../labels.js"),
      import("../../format/table.js"),
      this.client(),
    ]);
    const svc = client.service(Namespaces);
    const items = (argv as string[]).slice(1);
    let labels: Record<string, string>;
    if (items.length === 0) {
      labels = (await svc.get({ name: args.name }, client.call())).namespace?.labels ?? {};
    } else {
      const update = labelUpdate(items);
      const res = await svc.update(
        {
          namespace: { name: args.name, labels: update.labels },
          updateMask: { paths: update.paths },
        },
        client.call(),
      );
      labels = res.namespace?.labels ?? {};
    }
    this.output({ name: args.name, labels }, () => formatLabels(labels) + "\n");
  }
}
