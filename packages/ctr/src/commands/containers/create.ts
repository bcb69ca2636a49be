import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, CONTAINERS } from "../../aliases.js";
import { flagShapes, splitCommandLine } from "../../split-argv.js";

/** Flags shared by `containers create` and `run`: what goes into the container record. */
export const containerFlags = {
  rootfs: Flags.string({
    description: "root filesystem directory of the container",
    required: true,
  }),
  label: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    description: "container label key=value (several allowed)",
  }),
  env: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    description: "environment variable K=V (several allowed)",
  }),
  cwd: Flags.string({ description: "working directory of the process" }),
  runtime: Flags.string({
    default: "io.containerd.runc.v2",
    description:
      "runtime name (io.containerd.ts.v2 for containerd-shim-ts-v2) or absolute shim path",
  }),
  "runc-binary": Flags.string({
    description: "runc-compatible binary the shim runs (e.g. runc-ts)",
  }),
  mount: Flags.string({
    multiple: true,
    multipleNonGreedy: true,
    description: "extra mount: type=bind,src=/a,dst=/b,options=rbind:ro",
  }),
  "read-only": Flags.boolean({ description: "make the root filesystem read-only" }),
  tty: Flags.boolean({ char: "t", description: "allocate a TTY for the container" }),
};

export default class ContainersCreate extends CtrCommand {
  static override description = "create a container from a root filesystem directory";
  static override hiddenAliases = aliasIds(CONTAINERS, ["create"]);
  static override strict = false;
  static override flags = containerFlags;
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
    command: Args.string({
      ignoreStdin: true,
      description: "command (absolute path) and its arguments",
    }),
  };
  static override examples = [
    "<%= config.bin %> containers create --rootfs /srv/rootfs web /bin/sh -c 'echo hi'",
  ];

  async run(): Promise<void> {
    const split = splitCommandLine(
      this.argv,
      flagShapes({ ...ContainersCreate.flags, ...CtrCommand.baseFlags }),
      1,
    );
    const { flags, args } = await this.parseCommand(ContainersCreate, split.own);
    const [{ createContainer }, { containerRecordFromFlags }, client] = await Promise.all([
      import("../../ops/containers.js"),
      import("../../ops/container-flags.js"),
      this.client(),
    ]);
    const container = await createContainer(
      client,
      containerRecordFromFlags(args.id, flags, split.command),
    );
    this.output({ id: container.id }, () => "");
  }
}
