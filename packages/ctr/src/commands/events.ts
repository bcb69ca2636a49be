import { Args, Flags } from "@oclif/core";
import { CtrCommand } from "../base-command.js";
import { EVENT_POINT_HELP } from "../ops/event-point.js";

export default class Events extends CtrCommand {
  static override description =
    "print events as they happen (timestamp namespace topic payload); --json prints one JSON object per line.\n" +
    "With --since or --until (containerd-ts only: containerd keeps no history) the stored events " +
    "are printed first, each line led by its sequence number (`seq` in --json): from --since " +
    "(default: the oldest retained) up to --until, both inclusive. Without --until the stored " +
    "events are followed by live ones, with no gap and no repeat; with it, the command exits 0 " +
    "once that point is reached (at once when it is past).";
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
    since: Flags.string({
      description: `replay stored events from this point: ${EVENT_POINT_HELP}`,
    }),
    until: Flags.string({
      description: `stop after this point (same forms as --since)`,
    }),
  };
  static override examples = [
    "<%= config.bin %> events",
    "<%= config.bin %> events 'topic==\"/containers/create\"'",
    "<%= config.bin %> events --json namespace==default",
    "<%= config.bin %> events --since 10m",
    "<%= config.bin %> events --since seq:120 --until seq:180 --json",
    "<%= config.bin %> events --since 2026-11-28T12:00:00Z --until 0s 'topic~=\"/tasks/\"'",
  ];

  async run(): Promise<void> {
    const { argv, flags } = await this.parseCommand(Events);
    const filters = [...(argv as string[]), ...(flags.filter ?? [])];
    if (flags.since === undefined && flags.until === undefined) return this.live(filters);
    return this.history(filters, flags.since, flags.until);
  }

  /** containerd's Events.Subscribe, so it works against the real containerd too. */
  private async live(filters: string[]): Promise<void> {
    const [{ Events: EventsService }, fmt, client] = await Promise.all([
      import("@containerd-ts/gen/containerd/services/events/v1/events_pb.js"),
      import("../format/events.js"),
      this.client(),
    ]);
    // a subscription never ends from the server side: no deadline
    for await (const env of client.service(EventsService).subscribe({ filters })) {
      await this.print(this.globals.json ? fmt.eventJson(env) : fmt.formatEventLine(env));
    }
  }

  /** containerd-ts's EventHistory: the stored events, then live ones up to --until. */
  private async history(filters: string[], since?: string, until?: string): Promise<void> {
    const [{ parseEventPoint }, { eventHistory }, { sequencedLine, sequencedJson }] =
      await Promise.all([
        import("../ops/event-point.js"),
        import("../ops/event-history.js"),
        import("../format/event-history.js"),
      ]);
    const now = Date.now();
    const opts = {
      filters,
      since: since === undefined ? undefined : parseEventPoint(since, "since", now),
      until: until === undefined ? undefined : parseEventPoint(until, "until", now),
    };
    const client = await this.client();
    for await (const env of eventHistory(client, opts)) {
      await this.print(this.globals.json ? sequencedJson(env) : sequencedLine(env));
    }
  }

  /** One line out; waits for a full pipe to drain so a long replay is not buffered whole. */
  private async print(line: string | Record<string, unknown>): Promise<void> {
    const text = typeof line === "string" ? line : JSON.stringify(line);
    if (!process.stdout.write(text + "\n")) {
      await new Promise((resolve) => process.stdout.once("drain", resolve));
    }
  }
}
