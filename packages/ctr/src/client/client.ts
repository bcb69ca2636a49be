import type { DescService } from "@bufbuild/protobuf";
import { createClient, type CallOptions, type Client } from "@connectrpc/connect";
import { createClientTransport, NAMESPACE_HEADER, type ClientTransport } from "./transport.js";

export interface ContainerdClientOptions {
  address: string;
  namespace: string;
  /** Deadline of every unary call in milliseconds; undefined = none. */
  timeoutMs?: number;
}

/**
 * One connection to the daemon, shared by every service client a command asks for.
 * Service descriptors are passed in by the command so only what it uses gets imported.
 */
export class ContainerdClient {
  readonly namespace: string;
  readonly timeoutMs: number | undefined;
  private readonly conn: ClientTransport;

  constructor(opts: ContainerdClientOptions) {
    this.namespace = opts.namespace;
    this.timeoutMs = opts.timeoutMs;
    this.conn = createClientTransport(opts);
  }

  service<S extends DescService>(desc: S): Client<S> {
    return createClient(desc, this.conn.transport);
  }

  /** Options for a unary call: the deadline, plus extra headers (lease, other namespace). */
  call(headers?: Record<string, string>): CallOptions {
    return { timeoutMs: this.timeoutMs, headers };
  }

  /** Options for a call made in another namespace than the command's. */
  inNamespace(namespace: string): CallOptions {
    return this.call({ [NAMESPACE_HEADER]: namespace });
  }

  close(): void {
    this.conn.close();
  }
}
