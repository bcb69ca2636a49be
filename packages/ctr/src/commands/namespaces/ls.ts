import { Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, LS, NAMESPACES } from "../../aliases.js";

export default class NamespacesLs extends CtrCommand {
  static override description = "list namespaces";
  static override hiddenAliases = aliasIds(NAMESPACES, LS);
  static override flags = {
    quiet: Flags.boolean({ char: "q", description: "print only the namespace names" }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parseCommand(NamespacesLs);
    const [{ Namespaces }, { formatTable, formatLabels }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/namespaces/v1/namespace_pb.js"),
      import("../../format/table.js"),
      this.client(),
    ]);
    const { namespaces } = await client.service(Namespaces).list({}, client.call());
    const rows = namespaces
      .map((ns) => ({ name: ns.name, labels: ns.labels }))
      .sort((a, b) => a.name.localeCompare(b.name));
    this.output(flags.quiet ? rows.map((r) => r.name) : rows, () =>
      flags.quiet
        ? rows.map((r) => r.name + "\n").join("")
        : formatTable(
            ["NAME", "LABELS"],
            rows.map((r) => [r.name, formatLabels(r.labels)]),
            1,
          ),
    );
  }
}
