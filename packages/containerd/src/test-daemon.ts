import type { TestContext } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import type http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { resolveConfig, type DaemonConfig } from "./config.js";
import { createLogger } from "./context.js";
import { Daemon } from "./server.js";

/**
 * For gRPC tests: a daemon on a temp root with its real HTTP/2 server, a client transport
 * with its own connection, and both stopped and removed after the test.
 */
export async function testDaemon(
  t: Pick<TestContext, "after">,
  prefix: string,
  nodeOptions: http2.ClientSessionOptions = {},
): Promise<{ d: Daemon; config: DaemonConfig; transport: Transport; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const config = resolveConfig({
    address: join(dir, "c.sock"),
    root: join(dir, "root"),
    state: join(dir, "state"),
  });
  const d = await Daemon.start(config, createLogger("error"));
  const transport = createGrpcTransport({
    baseUrl: "http://localhost",
    nodeOptions: { ...nodeOptions, createConnection: () => net.connect(config.address) },
  });
  t.after(async () => {
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { d, config, transport, dir };
}
