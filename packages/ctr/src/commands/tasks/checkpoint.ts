import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

const CHECKPOINT_OPTIONS_TYPE_URL = "containerd.runc.v1.CheckpointOptions";

export default class TasksCheckpoint extends CtrCommand {
  static override description =
    "checkpoint a task with CRIU into --image-path (ctr's flags; the content store is not used)";
  static override hiddenAliases = aliasIds(TASKS, ["checkpoint"]);
  static override flags = {
    exit: Flags.boolean({ description: "stop the container after the checkpoint" }),
    "image-path": Flags.string({ description: "path to criu image files" }),
    "work-path": Flags.string({ description: "path to criu work files and logs" }),
  };
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };
  static override examples = [
    "<%= config.bin %> tasks checkpoint --image-path /var/lib/ckpt/web1 --exit web1",
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parseCommand(TasksCheckpoint);
    const [{ getTask }, { CheckpointOptionsSchema }, { create, toBinary }, { resolve }] =
      await Promise.all([
        import("../../ops/tasks-client.js"),
        import("@containerd-ts/gen/containerd/runc/v1/options_pb.js"),
        import("@bufbuild/protobuf"),
        import("node:path"),
      ]);
    const client = await this.client();
    const { tasks } = await getTask(client, args.id);
    // ctr sends runc's CheckpointOptions only for the runc runtimes; every shim here reads them
    const options = create(CheckpointOptionsSchema, {
      exit: flags.exit,
      // the shim resolves paths from its own directory: make them the caller's
      imagePath: flags["image-path"] ? resolve(flags["image-path"]) : "",
      workPath: flags["work-path"] ? resolve(flags["work-path"]) : "",
    });
    await tasks.checkpoint(
      {
        containerId: args.id,
        options: {
          typeUrl: CHECKPOINT_OPTIONS_TYPE_URL,
          value: toBinary(CheckpointOptionsSchema, options),
        },
      },
      client.call(),
    );
  }
}
