import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";
import { stdioFlags } from "../run.js";

export default class TasksRestore extends CtrCommand {
  static override description =
    "start the task of an existing container from a CRIU image: a directory written by `tasks checkpoint --image-path` (runc Options.criu_image_path), or a checkpoint image or CRIU tar digest in the content store (Tasks/Create checkpoint); exits with its status unless -d";
  static override hiddenAliases = aliasIds(TASKS, ["restore"]);
  static override flags = {
    ...stdioFlags,
    "image-path": Flags.string({
      description: "path to criu image files",
      exactlyOne: ["image-path", "checkpoint"],
    }),
    checkpoint: Flags.string({
      description: "checkpoint image name (`tasks checkpoint` prints it) or CRIU tar digest",
    }),
    "work-path": Flags.string({ description: "path to criu work files and logs" }),
  };
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
  };
  static override examples = [
    "<%= config.bin %> tasks restore -d --image-path /var/lib/ckpt/web1 web1",
    "<%= config.bin %> tasks restore -d --checkpoint containerd.io/checkpoint/web1:01-31-2024-12:00:00 web1",
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parseCommand(TasksRestore);
    const [
      { Containers },
      { OptionsSchema },
      { create, fromBinary, toBinary },
      { runContainerTask },
      { defaultFifoRoot },
      { RUNC_OPTIONS_TYPE_URL },
      { resolve },
      { checkpointDescriptor },
      client,
    ] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/containers/v1/containers_pb.js"),
      import("@containerd-ts/gen/containerd/runc/v1/options_pb.js"),
      import("@bufbuild/protobuf"),
      import("../../ops/run-task.js"),
      import("../../stdio/fifo.js"),
      import("../../ops/containers.js"),
      import("node:path"),
      import("../../ops/checkpoint-ref.js"),
      this.client(),
    ]);
    const { container } = await client.service(Containers).get({ id: args.id }, client.call());
    // the task's options replace the container's for the shim: keep its runc options
    const own = container?.runtime?.options;
    const options =
      own && own.typeUrl.endsWith(RUNC_OPTIONS_TYPE_URL)
        ? fromBinary(OptionsSchema, own.value)
        : create(OptionsSchema);
    if (flags["image-path"]) options.criuImagePath = resolve(flags["image-path"]);
    const checkpoint = flags.checkpoint
      ? await checkpointDescriptor(client, flags.checkpoint)
      : undefined;
    if (flags["work-path"]) options.criuWorkPath = resolve(flags["work-path"]);
    const status = await runContainerTask(
      client,
      args.id,
      {
        stdin: flags.interactive,
        tty: false,
        detach: flags.detach,
        fifoRoot: flags["fifo-dir"] ?? defaultFifoRoot(),
      },
      { typeUrl: RUNC_OPTIONS_TYPE_URL, value: toBinary(OptionsSchema, options) },
      checkpoint,
    );
    process.exitCode = status === 0 ? 0 : status & 0xff || 1;
  }
}
