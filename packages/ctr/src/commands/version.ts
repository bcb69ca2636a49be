import { CtrCommand } from "../base-command.js";

export default class Version extends CtrCommand {
  static override description = "print the client and server versions";
  static override examples = ["<%= config.bin %> version"];

  async run(): Promise<void> {
    await this.parseCommand(Version);
    const [{ Version: VersionService }, { Introspection }, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/version/v1/version_pb.js"),
      import("@containerd-ts/gen/containerd/services/introspection/v1/introspection_pb.js"),
      this.client(),
    ]);
    const version = await client.service(VersionService).version({}, client.call());
    const server = await client.service(Introspection).server({}, client.call());
    const clientVersion = this.config.version;
    this.output(
      {
        client: { version: clientVersion, node: process.version },
        server: { version: version.version, revision: version.revision, uuid: server.uuid },
      },
      () =>
        [
          "Client:",
          `  Version:  ${clientVersion}`,
          `  Node version: ${process.version}`,
          "",
          "Server:",
          `  Version:  ${version.version}`,
          `  Revision: ${version.revision}`,
          `  UUID: ${server.uuid}`,
          "",
        ].join("\n"),
    );
  }
}
