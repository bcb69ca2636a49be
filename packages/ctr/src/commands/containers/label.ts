import { Args } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, CONTAINERS } from "../../aliases.js";

export default class ContainersLabel extends CtrCommand {
  static override description =
    "set labels on a container (key= removes); without labels, print them";
  static override hiddenAliases = aliasIds(CONTAINERS, ["label"]);
  static override strict = false;
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
    labels: Args.string({ ignoreStdin: true, description: "labels as key=value; key= removes" }),
  };

  async run(): Promise<void> {
    const { args, argv } = await this.parseCommand(ContainersLabel);
    const [{ Containers }, { labelUpdate }, { formatLabels }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
      import("../../labels.js"),
      import("../../format/table.js"),
      this.client(),
    ]);
    const svc = client.service(Containers);
    const { container } = await svc.get({ id: args.id }, client.call());
    let labels = container?.labels ?? {};
    const items = (argv as string[]).slice(1);
    if (items.length > 0) {
      const update = labelUpdate(items);
      const res = await svc.update(
        { container: { id: args.id, labels: update.labels }, updateMask: { paths: update.paths } },
        client.call(),
      );
      labels = res.container?.labels ?? labels;
      this.output({ id: args.id, labels }, () => "");
      return;
    }
    this.output({ id: args.id, labels }, () => formatLabels(labels) + "\n");
  }
}
