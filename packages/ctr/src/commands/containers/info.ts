import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, CONTAINERS } from "../../aliases.js";

export default class ContainersInfo extends CtrCommand {
  static override description = "print a container's record as JSON, with its OCI spec decoded";
  static override hiddenAliases = aliasIds(CONTAINERS, ["info"]);
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };
  static override flags = { spec: Flags.boolean({ description: "print only the OCI spec" }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parseCommand(ContainersInfo);
    const [{ Containers }, { decodeSpec }, { containerInfo }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
      import("../../ops/containers.js"),
      import("../../format/container-info.js"),
      this.client(),
    ]);
    const { container } = await client.service(Containers).get({ id: args.id }, client.call());
    if (!container) throw new Error(`container "${args.id}": no record returned`);
    const spec = decodeSpec(container);
    const info = flags.spec ? spec : containerInfo(container, spec);
    // info is JSON for people too; ctr indents with four spaces
    process.stdout.write(JSON.stringify(info, null, this.globals.json ? 2 : 4) + "\n");
  }
}
