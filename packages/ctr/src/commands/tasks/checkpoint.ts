import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";

const CHECKPOINT_OPTIONS_TYPE_URL = "containerd.runc.v1.CheckpointOptions";

export default class TasksCheckpoint extends CtrCommand {
  static override description =
    "checkpoint a task with CRIU: into the content store as a checkpoint image (its name is printed), or into --image-path";
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
    "<%= config.bin %> tasks checkpoint web1",
    "<%= config.bin %> tasks checkpoint --image-path /var/lib/ckpt/web1 --exit web1",
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parseCommand(TasksCheckpoint);
    const [
      { getTask },
      { withLease },
      { createCheckpointImage },
      { CheckpointOptionsSchema },
      { Status },
      { create, toBinary },
      { resolve },
    ] = await Promise.all([
      import("../../ops/tasks-client.js"),
      import("../../ops/lease.js"),
      import("../../ops/checkpoint-image.js"),
      import("@containerd-ts/gen/containerd/runc/v1/options_pb.js"),
      import("@containerd-ts/gen/containerd/v1/types/task_pb.js"),
      import("@bufbuild/protobuf"),
      import("node:path"),
    ]);
    const client = await this.client();
    const { tasks, process: task, container } = await getTask(client, args.id);
    // ctr sends runc's CheckpointOptions only for the runc runtimes; every shim here reads them
    const options = create(CheckpointOptionsSchema, {
      exit: flags.exit,
      // the shim resolves paths from its own directory: make them the caller's
      imagePath: flags["image-path"] ? resolve(flags["image-path"]) : "",
      workPath: flags["work-path"] ? resolve(flags["work-path"]) : "",
    });
    // like containerd's task.Checkpoint: everything under one lease, the task paused until
    // the image is complete (its rw layer included), resumed even if the checkpoint failed
    const name = await withLease(client, async (headers) => {
      const pause = task.status !== Status.PAUSED;
      if (pause) await tasks.pause({ containerId: args.id }, client.call(headers));
      try {
        const { descriptors } = await tasks.checkpoint(
          {
            containerId: args.id,
            options: {
              typeUrl: CHECKPOINT_OPTIONS_TYPE_URL,
              value: toBinary(CheckpointOptionsSchema, options),
            },
          },
          client.call(headers),
        );
        if (options.imagePath) return "";
        const c = {
          id: args.id,
          image: container?.image ?? "",
          snapshotter: container?.snapshotter ?? "",
          snapshotKey: container?.snapshotKey ?? "",
        };
        return await createCheckpointImage(client, c, descriptors, headers);
      } finally {
        // after --exit there is nothing to resume: containerd ignores that error too
        if (pause) await tasks.resume({ containerId: args.id }, client.call()).catch(() => {});
      }
    });
    if (name) this.output({ name }, () => `${name}\n`);
  }
}
