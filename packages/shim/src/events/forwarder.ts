import {
  Events,
  type ForwardRequest,
} from "@containerd-ts/gen/containerd/services/events/ttrpc/v1/events_pb.js";
import {
  createTtrpcClient,
  dialTtrpc,
  type TtrpcClient,
  type TtrpcConnection,
} from "@containerd-ts/ttrpc";
import type { Forwarder } from "./publisher.js";

/** containerd's shims give each Forward 5 s. */
export const FORWARD_TIMEOUT_MS = 5000;

/**
 * Events.Forward over ttrpc to the daemon's TTRPC_ADDRESS, with the namespace in the
 * `containerd-namespace-ttrpc` metadata. Dials lazily and redials after a broken connection.
 */
export class TtrpcForwarder implements Forwarder {
  private conn: TtrpcConnection | undefined;
  private client: TtrpcClient<typeof Events> | undefined;

  constructor(private readonly address: string) {}

  async forward(request: ForwardRequest): Promise<void> {
    const client = await this.connect();
    try {
      await client.forward(request, {
        timeoutMs: FORWARD_TIMEOUT_MS,
        metadata: { "containerd-namespace-ttrpc": request.envelope?.namespace ?? "" },
      });
    } catch (err) {
      this.drop();
      throw err;
    }
  }

  close(): void {
    this.drop();
  }

  private async connect(): Promise<TtrpcClient<typeof Events>> {
    if (this.client) return this.client;
    const conn = await dialTtrpc(this.address, { timeoutMs: FORWARD_TIMEOUT_MS });
    this.conn = conn;
    this.client = createTtrpcClient(Events, conn);
    void conn.closed.then(() => {
      if (this.conn === conn) {
        this.conn = undefined;
        this.client = undefined;
      }
    });
    return this.client;
  }

  private drop(): void {
    this.conn?.close();
    this.conn = undefined;
    this.client = undefined;
  }
}
