import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, CONTAINERS, LS } from "../../aliases.js";

export default class ContainersLs extends CtrCommand {
  static override description = "list containers, optionally filtered (containerd filter syntax)";
  static override hiddenAliases = aliasIds(CONTAINERS, LS);
  static override strict = false;
  static override args = {
    filters: Args.string({
      ignoreStdin: true,
      description: 'filters, e.g. labels."app"==web id~=^db runtime.name==io.containerd.runc.v2',
    }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: "q", description: "print only the container ids" }),
    label: Flags.string({
      char: "l",
      multiple: true,
      multipleNonGreedy: true,
      description: "only containers with this label (k or k=v)",
    }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parseCommand(ContainersLs);
    const [{ listContainers }, { buildFilters }, { formatTable }, client] = await Promise.all([
      import("../../ops/list-containers.js"),
      import("../../filters.js"),
      import("../../format/table.js"),
      this.client(),
    ]);
    const filters = buildFilters(argv as string[], { labels: flags.label });
    const containers = await listContainers(client, filters);
    const rows = containers.map((c) => ({
      id: c.id,
      image: c.image,
      runtime: c.runtime?.name ?? "",
      labels: c.labels,
    }));
    this.output(flags.quiet ? rows.map((r) => r.id) : rows, () =>
      flags.quiet
        ? rows.map((r) => r.id + "\n").join("")
        : formatTable(
            ["CONTAINER", "IMAGE", "RUNTIME"],
            rows.map((r) => [r.id, r.image || "-", r.runtime]),
          ),
    );
    if (rows.length === 0 && filters.length === 0) {
      const { emptyNamespaceHint } = await import("../../ops/hint.js");
      const hint = await emptyNamespaceHint(
        client,
        "containers",
        async (ns) => (await listContainers(client, [], client.inNamespace(ns))).length,
      );
      if (hint) this.hint(hint);
    }
  }
}
