import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../../base-command.js";
import { aliasIds, TASKS } from "../../aliases.js";
import { flagShapes, splitCommandLine } from "../../split-argv.js";
import { stdioFlags } from "../run.js";

export default class TasksExec extends CtrCommand {
  static override description =
    "run an additional process in a running task; exits with its status unless -d";
  static override hiddenAliases = aliasIds(TASKS, ["exec"]);
  static override strict = false;
  static override flags = {
    "exec-id": Flags.string({ required: true, description: "id of the new process" }),
    tty: Flags.boolean({ char: "t", description: "allocate a TTY" }),
    cwd: Flags.string({ description: "working directory" }),
    env: Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      description: "extra environment K=V",
    }),
    ...stdioFlags,
  };
  static override args = {
    id: Args.string({ ignoreStdin: true, required: true, description: "container id" }),
    command: Args.string({
      ignoreStdin: true,
      description: "command (absolute path) and its arguments",
    }),
  };
  static override examples = ["<%= config.bin %> tasks exec --exec-id e1 web /bin/ps"];

  async run(): Promise<void> {
    const split = splitCommandLine(
      this.argv,
      flagShapes({ ...TasksExec.flags, ...CtrCommand.baseFlags }),
      1,
    );
    const { args, flags } = await this.parseCommand(TasksExec, split.own);
    if (split.command.length === 0) throw new Error("exec needs a command to run");
    const [{ getTask }, { execProcess }, { defaultFifoRoot }, client] = await Promise.all([
      import("../../ops/tasks-client.js"),
      import("../../ops/exec.js"),
      import("../../stdio/fifo.js"),
      this.client(),
    ]);
    const { tasks, container } = await getTask(client, args.id);
    if (!container) throw new Error(`container "${args.id}" not found`);
    const status = await execProcess(client, tasks, container, {
      execId: flags["exec-id"],
      args: split.command,
      cwd: flags.cwd,
      env: flags.env,
      io: {
        stdin: flags.interactive || flags.tty,
        tty: flags.tty,
        detach: flags.detach,
        fifoRoot: flags["fifo-dir"] ?? defaultFifoRoot(),
      },
    });
    process.exitCode = status === 0 ? 0 : status & 0xff || 1;
  }
}
