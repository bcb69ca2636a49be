import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../base-command.js";

export default class Events extends CtrCommand {
  static override description =
    "print events as they happen (timestamp namespace topic payload); --json prints one JSON object per line";
  static override hiddenAliases = ["event"];
  static override strict = false;
  static override args = {
    filters: Args.string({
      ignoreStdin: true,
      description: 'containerd filters, e.g. topic~="/tasks/" namespace==default',
    }),
  };
  static override flags = {
    filter: Flags.string({
      multiple: true,
      multipleNonGreedy: true,
      description: "a containerd filter (same as the arguments)",
    }),
  };
  static override examples = [
    "<%= config.bin %> events",
    "<%= config.bin %> events 'topic==\"/containers/create\"'",
    "<%= config.bin %> events --json namespace==default",
  ];

  async run(): Promise<void> {
    const { argv, flags } = await this.parseCommand(Events);
    const [{ Events: EventsService }, fmt, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/events/v1/events_pb.js"),
      import("../format/events.js"),
      this.client(),
    ]);
    const filters = [...(argv as string[]), ...(flags.filter ?? [])];
    // a subscription never ends from the server side: no deadline
    for await (const env of client.service(EventsService).subscribe({ filters })) {
      const line = this.globals.json
        ? JSON.stringify(fmt.eventJson(env))
        : fmt.formatEventLine(env);
      process.stdout.write(line + "\n");
    }
  }
}
