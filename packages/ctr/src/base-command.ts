import { Command, Flags, Interfaces } from "@oclif/core";
import type { ContainerdClient } from "./client/client.js";
import { hoistedGlobalFlags } from "./global-argv.js";

export const DEFAULT_ADDRESS = "/run/containerd-ts/containerd.sock";
export const DEFAULT_NAMESPACE = "default";

/** Flags every command accepts (containerd#8558: anywhere on the line). */
export const globalFlags = {
  address: Flags.string({
    char: "a",
    env: "CONTAINERD_ADDRESS",
    default: DEFAULT_ADDRESS,
    description: "address of the containerd-ts gRPC socket",
    helpGroup: "GLOBAL",
  }),
  namespace: Flags.string({
    char: "n",
    env: "CONTAINERD_NAMESPACE",
    default: DEFAULT_NAMESPACE,
    description: "namespace to use",
    helpGroup: "GLOBAL",
  }),
  timeout: Flags.string({
    description: "timeout of every call to the daemon (Go duration: 10s, 500ms; 0 = none)",
    default: "0",
    helpGroup: "GLOBAL",
  }),
  json: Flags.boolean({
    description: "print JSON for scripts instead of tables for people",
    default: false,
    helpGroup: "GLOBAL",
  }),
};

/* eslint-disable @typescript-eslint/no-explicit-any -- oclif's own parser output shapes */
type FlagOutput = { [name: string]: any };
type ArgOutput = { [name: string]: any };
/* eslint-enable @typescript-eslint/no-explicit-any */

export type GlobalFlags = Interfaces.InferredFlags<typeof globalFlags>;

/**
 * The common base: global flags, one daemon connection per run (opened on first use, closed
 * at the end), output helpers, and errors printed as `ctr-ts: <server message>` with exit 1.
 */
export abstract class CtrCommand extends Command {
  static override baseFlags = globalFlags;

  private connection?: ContainerdClient;
  protected globals!: GlobalFlags;

  override async init(): Promise<void> {
    this.argv = [...hoistedGlobalFlags(), ...this.argv];
    await super.init();
  }

  /** Parses this command's flags and args; keeps the global flags for client(). */
  protected async parseCommand<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options: Interfaces.Input<F, B, A>,
    argv = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const parsed = await this.parse(options, argv);
    this.globals = parsed.flags as unknown as GlobalFlags;
    return parsed;
  }

  protected async client(): Promise<ContainerdClient> {
    if (!this.connection) {
      const [{ ContainerdClient }, { parseDuration }] = await Promise.all([
        import("./client/client.js"),
        import("./duration.js"),
      ]);
      this.connection = new ContainerdClient({
        address: this.globals.address,
        namespace: this.globals.namespace,
        timeoutMs: parseDuration(this.globals.timeout),
      });
    }
    return this.connection;
  }

  /** JSON on --json, otherwise the people's rendering. */
  protected output(json: unknown, human: () => string): void {
    const text = this.globals.json ? JSON.stringify(json, null, 2) + "\n" : human();
    process.stdout.write(text);
  }

  protected hint(text: string): void {
    if (!this.globals.json) process.stderr.write(`hint: ${text}\n`);
  }

  protected override async catch(err: Interfaces.CommandError): Promise<unknown> {
    // oclif's own errors (bad flags, exit()) keep oclif's handling
    if ("oclif" in err) return super.catch(err);
    const { errorMessage } = await import("./errors.js");
    process.stderr.write(`ctr-ts: ${errorMessage(err)}\n`);
    process.exitCode = 1;
    return undefined;
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.connection?.close();
    return super.finally(err);
  }
}
